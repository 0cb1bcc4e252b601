import { SQLiteSyncDialect } from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";
import { closeSqlite, openSqlite } from "../../../../storage/sqlite/open.ts";
import { runJobStoreContract } from "../../jobs/queue.contract.ts";
import { fairClaimKeys } from "./fair-claim.ts";
import { createSqliteStores } from "./index.ts";
import { SqliteJobStore } from "./jobs.ts";

// A fresh in-memory database per test, migrated from migrations/sql: the contract runs against the real schema.
runJobStoreContract({
  name: "sqlite",
  make: (clock, retentionMs) => {
    const db = openSqlite(":memory:");
    return {
      jobs: new SqliteJobStore(db, { clock, retentionMs }),
      stores: createSqliteStores(db, { clock }),
      close: () => closeSqlite(db),
    };
  },
});

describe("the fair claim on SQLite stays on its indexes", () => {
  it("walks only unfinished jobs' customers and their due items by index: no scan of the items table", () => {
    const db = openSqlite(":memory:");
    try {
      const { sql: text, params } = new SQLiteSyncDialect().sqlToQuery(
        fairClaimKeys({ now: Date.now(), limit: 8, pools: '["shared"]', hold: "[]" }),
      );
      const plan = (db.$client.prepare(`explain query plan ${text}`).all(...params) as { detail: string }[]).map(
        (r) => r.detail,
      );
      expect(plan).toContain("SEARCH d USING INDEX job_items_customer_due_idx (customer_id=? AND available_at<?)");
      expect(plan.some((d) => d.startsWith("SCAN jobs USING INDEX jobs_unfinished_idx"))).toBe(true);
      // Items are only ever searched (by that index or by rowid), never scanned; jobs only through the partial index.
      expect(plan.filter((d) => /^SCAN (i|d|job_items)\b/.test(d))).toEqual([]);
      expect(plan.filter((d) => /^SCAN jobs\b/.test(d) && !d.includes("jobs_unfinished_idx"))).toEqual([]);
    } finally {
      closeSqlite(db);
    }
  });
});
