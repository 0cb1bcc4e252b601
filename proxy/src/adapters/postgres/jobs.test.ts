import { afterAll, beforeAll } from "vitest";
import { type PostgresDatabases, postgresDatabases } from "../../../../storage/testing/postgres-databases.ts";
import { type PostgresServer, startPostgres } from "../../../../storage/testing/postgres-server.ts";
import { runJobStoreContract } from "../../jobs/queue.contract.ts";
import { runResultStoreContract } from "../../jobs/results.contract.ts";
import { createPostgresStores } from "./index.ts";
import { PostgresJobStore } from "./jobs.ts";
import { PostgresResultStore } from "./results.ts";

// The batch queue's and the results' contracts on a real PostgreSQL, emptied per test (the same suite as memory, SQLite and D1).
let server: PostgresServer;
let databases: PostgresDatabases;

beforeAll(async () => {
  server = await startPostgres({ settings: { fsync: "off" } });
  databases = await postgresDatabases(server);
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

runJobStoreContract({
  name: "postgres",
  make: async (clock, retentionMs) => {
    const { db, drop } = await databases.create();
    return {
      jobs: new PostgresJobStore(db, { clock, retentionMs }),
      stores: createPostgresStores(db, { clock }),
      close: drop,
    };
  },
});

runResultStoreContract({
  name: "postgres",
  make: async () => {
    const { db, drop } = await databases.create();
    return { results: new PostgresResultStore(db), close: drop };
  },
});
