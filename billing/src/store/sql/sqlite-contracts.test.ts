import { createSqliteStores } from "../../../../proxy/src/adapters/sqlite/index.ts";
import { closeSqlite, openSqlite } from "../../../../storage/sqlite/open.ts";
import { runBillingStoreContracts } from "../contracts.ts";
import { createSqlBillingStores } from "./index.ts";

// A fresh in-memory database per test, migrated from migrations/sql: the contracts run against the real schema,
// its CHECKs and foreign keys included.
runBillingStoreContracts({
  name: "sqlite",
  make: (clock) => {
    const db = openSqlite(":memory:");
    const proxy = createSqliteStores(db, { clock });
    return {
      proxy,
      billing: createSqlBillingStores(db, { clock }),
      addUsage: async (events) => {
        await proxy.ledger.append(events);
      },
      close: () => closeSqlite(db),
    };
  },
});
