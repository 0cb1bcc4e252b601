import { defineConfig } from "drizzle-kit";

// One schema, one migration folder: D1 (`wrangler d1 migrations apply`) and better-sqlite3 (drizzle's migrator) both
// apply migrations/sql.
export default defineConfig({
  dialect: "sqlite",
  schema: "./migrations/schema/index.ts",
  out: "./migrations/sql",
});
