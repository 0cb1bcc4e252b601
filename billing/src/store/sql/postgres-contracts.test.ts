import { afterAll, beforeAll } from "vitest";
import { createPostgresStores } from "../../../../proxy/src/adapters/postgres/index.ts";
import { asSqlDb } from "../../../../storage/pg/open.ts";
import { type PostgresDatabases, postgresDatabases } from "../../../../storage/testing/postgres-databases.ts";
import { type PostgresServer, startPostgres } from "../../../../storage/testing/postgres-server.ts";
import { runBillingStoreContracts } from "../contracts.ts";
import { createSqlBillingStores } from "./index.ts";

// The same stores on a real PostgreSQL (Debian's, started here), emptied per test: the schema drizzle-kit generated
// for Postgres, its CHECKs and foreign keys included.
let server: PostgresServer;
let databases: PostgresDatabases;

beforeAll(async () => {
  server = await startPostgres({ settings: { fsync: "off" } });
  databases = await postgresDatabases(server);
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

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
