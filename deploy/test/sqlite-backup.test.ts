import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createSqliteStores, openSqlite } from "../../proxy/src/adapters/sqlite/index.ts";
import { ManualClock, seedCustomer, usageEvent } from "../../proxy/src/store/testing/harness.ts";
import { backupSqlite } from "../tools/sqlite-backup.ts";

describe("SQLite backup (better-sqlite3's online backup API)", () => {
  const dir = mkdtempSync(join(tmpdir(), "backup-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("copies a live WAL database, rows still in the WAL included, and the copy opens as the proxy's database", async () => {
    const clock = new ManualClock();
    const db = openSqlite(join(dir, "proxy.db"));
    const stores = createSqliteStores(db, { clock });
    const seed = await seedCustomer(stores, clock);
    const events = Array.from({ length: 50 }, (_, i) => usageEvent(seed, { requestId: `r${i}`, amountMicros: 7 }));
    await stores.ledger.append(events);
    // the writer stays open (no checkpoint): the rows are in the WAL, as in a running proxy
    const report = await backupSqlite(join(dir, "proxy.db"), join(dir, "backups", "copy.db"));
    expect(report).toMatchObject({ integrity: "ok", usage_events: 50, amount_micros_by_currency: { USD: 350 } });
    // written after the backup: not in the copy
    await stores.ledger.append([usageEvent(seed, { requestId: "later", amountMicros: 7 })]);
    db.$client.close();

    const restored = openSqlite(join(dir, "backups", "copy.db"));
    const totals = await createSqliteStores(restored).ledger.totals({
      customerId: seed.customer.id,
      fromMs: 0,
      toMs: Date.UTC(2100, 0),
    });
    expect(totals[0]).toMatchObject({ events: 50, amountMicros: 350 });
    restored.$client.close();
  });

  it("fails on a database that does not exist instead of creating an empty one", async () => {
    await expect(backupSqlite(join(dir, "missing.db"), join(dir, "x.db"))).rejects.toThrow();
  });
});
