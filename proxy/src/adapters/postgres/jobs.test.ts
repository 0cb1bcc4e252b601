import { postgresForSuite } from "../../../../storage/testing/postgres-suite.ts";
import { runJobStoreContract } from "../../jobs/queue.contract.ts";
import { runResultStoreContract } from "../../jobs/results.contract.ts";
import { createPostgresStores } from "./index.ts";
import { PostgresJobStore } from "./jobs.ts";
import { PostgresResultStore } from "./results.ts";

// The batch queue's and the results' contracts on a real PostgreSQL, emptied per test (the same suite as memory, SQLite and D1).
const databases = postgresForSuite();

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
