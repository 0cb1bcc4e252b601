import { afterAll, beforeAll } from "vitest";
import { type PostgresDatabases, postgresDatabases } from "../../../../storage/testing/postgres-databases.ts";
import { type PostgresServer, startPostgres } from "../../../../storage/testing/postgres-server.ts";
import { runStoreContracts } from "../../store/contracts.ts";
import { createPostgresStores } from "./index.ts";

// A real PostgreSQL (Debian's, started here), a fresh database per test cloned from the migrated template: the
// contracts run against the schema drizzle-kit generated for Postgres, its CHECKs and foreign keys included.
let server: PostgresServer;
let databases: PostgresDatabases;

beforeAll(async () => {
  server = await startPostgres({ settings: { fsync: "off" } });
  databases = await postgresDatabases(server);
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

runStoreContracts({
  name: "postgres",
  make: async (clock) => {
    const { db, drop } = await databases.create();
    return { stores: createPostgresStores(db, { clock }), close: drop };
  },
});
