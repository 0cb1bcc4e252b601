/**
 * An online, consistent copy of the proxy's SQLite database (the usage ledger, keys, plans, jobs) while the proxy
 * runs, through SQLite's backup API (better-sqlite3's `backup`): it copies pages in steps and restarts a step when
 * a writer changed a page, so the copy is one transaction's state, WAL included. Then it checks the copy
 * (`PRAGMA integrity_check`) and prints what it holds, so the operator sees the ledger's totals before trusting it.
 *
 *   npm run ops:backup -- [--db data/proxy.db] [--out backups/proxy-<time>.db]
 *   kubectl -n indextts exec deploy/proxy -- node /app/backup.mjs --out /data/backups/proxy.db   # in the image
 *
 * Restore: docs/operations.md, "Restore the ledger". Exit status 1 when the copy fails its integrity check.
 */
import { mkdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";

export interface BackupReport {
  out: string;
  bytes: number;
  integrity: string;
  usage_events: number;
  amount_micros_by_currency: Record<string, number>;
}

export async function backupSqlite(dbPath: string, out: string): Promise<BackupReport> {
  mkdirSync(dirname(out), { recursive: true });
  const source = new Database(dbPath, { fileMustExist: true });
  try {
    await source.backup(out);
  } finally {
    source.close();
  }
  const copy = new Database(out, { readonly: true, fileMustExist: true });
  try {
    const integrity = String(copy.pragma("integrity_check", { simple: true }));
    const events = copy.prepare("SELECT COUNT(*) AS n FROM usage_events").get() as { n: number };
    const sums = copy
      .prepare("SELECT currency, SUM(amount_micros) AS micros FROM usage_events GROUP BY currency ORDER BY currency")
      .all() as { currency: string; micros: number }[];
    return {
      out,
      bytes: statSync(out).size,
      integrity,
      usage_events: events.n,
      amount_micros_by_currency: Object.fromEntries(sums.map((s) => [s.currency, s.micros])),
    };
  } finally {
    copy.close();
  }
}

const isMain = process.argv[1] !== undefined && /sqlite-backup\.ts$|backup\.mjs$/.test(process.argv[1]);
if (isMain) {
  const { values } = parseArgs({ options: { db: { type: "string" }, out: { type: "string" } } });
  const db = values.db ?? join(process.env.DATA_DIR ?? "data", "proxy.db");
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "Z");
  const out = values.out ?? join(process.env.DATA_DIR ?? "data", "backups", `proxy-${stamp}.db`);
  const report = await backupSqlite(db, out);
  console.log(JSON.stringify(report));
  if (report.integrity !== "ok") process.exit(1);
}
