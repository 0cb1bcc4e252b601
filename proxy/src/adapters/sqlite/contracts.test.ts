import { closeSqlite, openSqlite } from "../../../../storage/sqlite/open.ts";
import { runStoreContracts } from "../../store/contracts.ts";
import { createSqliteStores } from "./index.ts";

// A fresh in-memory database per test, migrated from migrations/sql: the contract runs against the real schema.
runStoreContracts({
  name: "sqlite",
  make: (clock) => {
    const db = openSqlite(":memory:");
    return { stores: createSqliteStores(db, { clock }), close: () => closeSqlite(db) };
  },
});
