import { runJobStoreContract } from "../../jobs/queue.contract.ts";
import { createSqliteStores } from "./index.ts";
import { SqliteJobStore } from "./jobs.ts";
import { closeSqlite, openSqlite } from "./open.ts";

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
