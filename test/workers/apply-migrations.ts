import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// migrations/sql, the same folder `wrangler d1 migrations apply` uses; already-applied ones are skipped.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
