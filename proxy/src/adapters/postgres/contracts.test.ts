import { postgresForSuite } from "../../../../storage/testing/postgres-suite.ts";
import { runStoreContracts } from "../../store/contracts.ts";
import { createPostgresStores } from "./index.ts";

// A real PostgreSQL (Debian's, started here), a fresh database per test cloned from the migrated template: the
// contracts run against the schema drizzle-kit generated for Postgres, its CHECKs and foreign keys included.
const databases = postgresForSuite();

runStoreContracts({
  name: "postgres",
  make: async (clock) => {
    const { db, drop } = await databases.create();
    return { stores: createPostgresStores(db, { clock }), close: drop };
  },
});
