import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { usageEvents } from "../../../../migrations/schema/index.ts";
import { closeSqlite, openSqlite, type SqliteDb } from "../../../../storage/sqlite/open.ts";
import { GroupCommitLedger } from "../../store/group-commit.ts";
import { ManualClock, seedCustomer, usageEvent } from "../../store/testing/harness.ts";
import { createSqliteStores } from "./index.ts";

const CHILD = fileURLToPath(new URL("./testing/append-until-killed.ts", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

describe("SQLite ledger durability", () => {
  let dir: string;
  const opened: SqliteDb[] = [];
  const open = (path: string) => {
    const db = openSqlite(path);
    opened.push(db);
    return db;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "ledger-"));
  });
  afterEach(() => {
    for (const db of opened.splice(0)) if (db.$client.open) closeSqlite(db);
    rmSync(dir, { recursive: true, force: true });
  });

  it("loses no acknowledged row when the process is killed with SIGKILL mid-run", async () => {
    const path = join(dir, "proxy.db");
    const clock = new ManualClock(Date.UTC(2020, 0, 1));
    const setup = open(path);
    const seed = await seedCustomer(createSqliteStores(setup, { clock }), clock);
    closeSqlite(setup);

    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        CHILD,
        path,
        JSON.stringify({
          customerId: seed.customer.id,
          apiKeyId: seed.key.id,
          planId: seed.plan.id,
          priceVersionId: seed.version.id,
        }),
      ],
      { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on("exit", (_code, signal) => resolve(signal)),
    );
    // Kill once thousands of rows are acknowledged: many batches committed, more in flight.
    let lines = 0;
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        const text = chunk.toString();
        stdout += text;
        for (const char of text) if (char === "\n") lines++;
        if (lines > 5_000) resolve();
      });
      child.on("exit", () => reject(new Error(`child exited before the kill: ${stderr}`)));
    });
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    // A line without its newline may be cut by the kill; only whole lines were acknowledged.
    const acknowledged = stdout.split("\n").slice(0, -1);
    expect(acknowledged.length).toBeGreaterThan(5_000);

    const db = open(path);
    const rows = db.select({ requestId: usageEvents.requestId }).from(usageEvents).all();
    const stored = new Set(rows.map((r) => r.requestId));
    expect(stored.size).toBe(rows.length);
    const lost = acknowledged.filter((id) => !stored.has(id));
    expect(lost).toEqual([]);
    expect(new Set(acknowledged).size).toBe(acknowledged.length);
    // Committed but unacknowledged rows may exist (killed between commit and print); that is allowed.
    expect(rows.length).toBeGreaterThanOrEqual(acknowledged.length);
    expect(db.$client.pragma("integrity_check", { simple: true })).toBe("ok");
  }, 60_000);

  it("rolls back a whole group-commit batch when one row breaks a constraint", async () => {
    const clock = new ManualClock();
    const db = open(join(dir, "fk.db"));
    const stores = createSqliteStores(db, { clock });
    const seed = await seedCustomer(stores, clock);
    const ledger = new GroupCommitLedger(stores.ledger, { maxBatch: 1_000, maxDelayMs: 5 });

    // Well-formed, but its customer does not exist: only the database (foreign key) can refuse it.
    const orphan = usageEvent(seed, { requestId: "orphan", customerId: "cus_ghost" });
    const results = await Promise.allSettled([
      ...Array.from({ length: 20 }, (_, i) => ledger.append([usageEvent(seed, { requestId: `r${i}` })])),
      ledger.append([orphan]),
    ]);
    expect(results.every((r) => r.status === "rejected")).toBe(true);
    expect(db.select().from(usageEvents).all()).toEqual([]);

    const retried = await Promise.all(
      Array.from({ length: 20 }, (_, i) => ledger.append([usageEvent(seed, { requestId: `r${i}` })])),
    );
    expect(retried.flat().every((o) => o.inserted)).toBe(true);
    expect(db.select().from(usageEvents).all()).toHaveLength(20);
  });

  it("opens in WAL with foreign keys on, and migrating an up-to-date database is a no-op", () => {
    const path = join(dir, "pragmas.db");
    closeSqlite(open(path));
    const db = open(path);
    expect(db.$client.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.$client.pragma("foreign_keys", { simple: true })).toBe(1);
    expect(db.$client.pragma("synchronous", { simple: true })).toBe(1); // NORMAL
    expect(db.$client.pragma("busy_timeout", { simple: true })).toBe(5_000);
  });
});
