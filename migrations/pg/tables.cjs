// What drizzle-kit reads for the Postgres migration (drizzle.pg.config.ts): it collects the tables among a module's
// exports, so this module's exports are the derived tables themselves, by key, with no list to keep in step with
// migrations/schema/index.ts. drizzle-kit loads it with its own TypeScript require hook.
module.exports = require("./schema.ts").pgSchema;
