import { afterEach, describe, expect, it } from "vitest";
import { closeSqlite, openSqlite } from "../../../../storage/sqlite/open.ts";
import { jobStateCounts } from "../../jobs/metrics.ts";
import { buildMixedQueue, MIXED_QUEUE_COUNTS } from "../../jobs/testing/state-scenario.ts";
import { ManualClock } from "../../store/testing/harness.ts";
import { createSqliteStores } from "./index.ts";
import { sqliteJobStateCounts } from "./job-state-counts.ts";
import { SqliteJobStore } from "./jobs.ts";

describe("sqliteJobStateCounts", () => {
  const db = openSqlite(":memory:");
  afterEach(() => closeSqlite(db));

  it("counts what walking the ports counts, in two queries", async () => {
    const clock = new ManualClock(Date.UTC(2026, 2, 2, 12));
    const stores = createSqliteStores(db, { clock });
    const store = new SqliteJobStore(db, { clock });
    const count = sqliteJobStateCounts(db);
    expect(await count()).toEqual({
      jobs: { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0, completed_with_errors: 0 },
      items: { queued: 0, running: 0, done: 0, failed: 0, dead_lettered: 0, cancelled: 0 },
    });
    await buildMixedQueue(store, stores, clock);
    expect(await jobStateCounts(store, stores.customers)).toEqual(MIXED_QUEUE_COUNTS);
    expect(await count()).toEqual(MIXED_QUEUE_COUNTS);
  });
});
