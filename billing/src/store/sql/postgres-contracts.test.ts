import { createPostgresStores } from "../../../../proxy/src/adapters/postgres/index.ts";
import { asSqlDb } from "../../../../storage/pg/open.ts";
import { postgresForSuite } from "../../../../storage/testing/postgres-suite.ts";
import { runBillingStoreContracts } from "../contracts.ts";
import { createSqlBillingStores } from "./index.ts";

// The same stores on a real PostgreSQL (Debian's, started here), emptied per test: the schema drizzle-kit generated
// for Postgres, its CHECKs and foreign keys included.
const databases = postgresForSuite();

runBillingStoreContracts({
  name: "postgres",
  make: async (clock) => {
    const { db, drop } = await databases.create();
    const proxy = createPostgresStores(db, { clock });
    return {
      proxy,
      billing: createSqlBillingStores(asSqlDb(db), { clock }),
      addUsage: async (events) => {
        await proxy.ledger.append(events);
      },
      close: drop,
    };
  },
});
