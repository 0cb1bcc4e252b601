import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { closeSqlite, openSqlite, type SqliteDb } from "../../../../storage/sqlite/open.ts";
import type { Stores } from "../../store/ports.ts";
import { ManualClock, seedCustomer, usageEvent } from "../../store/testing/harness.ts";
import { SqlUsageReports } from "../sql/usage-reports.ts";
import { createSqliteStores, sqliteRunAtomically } from "./index.ts";

const DAY = 86_400_000;

describe("SqlUsageReports fold on SQLite", () => {
  let db: SqliteDb;
  let stores: Stores;
  const t0 = Date.UTC(2026, 4, 3, 22);

  beforeEach(() => {
    db = openSqlite(":memory:");
    stores = createSqliteStores(db, { clock: new ManualClock(t0) });
  });
  afterEach(() => closeSqlite(db));

  const count = (table: string) =>
    (db.$client.prepare(`select coalesce(sum(events), 0) as n from ${table}`).get() as { n: number }).n;
  const watermark = () =>
    (db.$client.prepare("select folded_through as w from usage_rollup_state").get() as { w: number } | undefined)?.w;

  it("folds in chunks of row ids, each chunk with its watermark, and never twice", async () => {
    const seed = await seedCustomer(stores, new ManualClock(t0));
    const events = Array.from({ length: 53 }, (_, i) =>
      usageEvent(seed, { requestId: `req_${i}`, occurredAt: t0 + i * 3_600_000, tokens: i, amountMicros: i * 3 }),
    );
    await stores.ledger.append(events);
    const reports = new SqlUsageReports(db, sqliteRunAtomically(db), { chunk: 7 });
    expect(await reports.catchUp()).toBe(53);
    expect(watermark()).toBe(53);
    expect(count("usage_daily")).toBe(53);
    expect(count("usage_token_counts")).toBe(53);
    expect(count("usage_daily_plans")).toBe(53);
    expect(count("usage_monthly_customers")).toBe(53);
    // every hour of 53 hours from 22:00 UTC: 2 + 24 + 24 + 3 rows per UTC day
    const days = db.$client.prepare("select day_ms, sum(events) as n from usage_daily group by day_ms").all();
    expect(days).toEqual([
      { day_ms: Date.UTC(2026, 4, 3), n: 2 },
      { day_ms: Date.UTC(2026, 4, 4), n: 24 },
      { day_ms: Date.UTC(2026, 4, 5), n: 24 },
      { day_ms: Date.UTC(2026, 4, 6), n: 3 },
    ]);
    expect(await reports.catchUp()).toBe(0);
    // a second reader over the same database (another process) sees the same watermark and folds nothing again
    const other = new SqlUsageReports(db, sqliteRunAtomically(db), { chunk: 5 });
    expect(await other.catchUp()).toBe(0);
    expect(count("usage_daily")).toBe(53);
    const range = { fromMs: t0 - DAY, toMs: t0 + 5 * DAY };
    expect(await other.totals(range)).toEqual(await stores.ledger.totals(range));
  });

  it("leaves the rollups and the watermark untouched when a fold fails midway", async () => {
    const seed = await seedCustomer(stores, new ManualClock(t0));
    await stores.ledger.append([usageEvent(seed, { requestId: "req_1", occurredAt: t0, tokens: 5 })]);
    const failing = new SqlUsageReports(
      db,
      async (statements) => {
        await sqliteRunAtomically(db)([...statements.slice(0, 2), "select no_such_column from usage_daily"]);
      },
      { chunk: 10 },
    );
    await expect(failing.catchUp()).rejects.toThrow(/no_such_column/);
    expect(count("usage_daily")).toBe(0);
    expect(watermark()).toBeUndefined();
    expect(await stores.reports?.catchUp()).toBe(1);
    expect(count("usage_daily")).toBe(1);
  });
});
