import { defineConfig } from "drizzle-kit";

// PostgreSQL (the Node proxy with DATABASE_URL): the same schema, derived in migrations/pg/schema.ts, its migrations
// beside the SQLite/D1 ones.
export default defineConfig({
  dialect: "postgresql",
  schema: "./migrations/pg/tables.cjs",
  out: "./migrations/pg/sql",
});
