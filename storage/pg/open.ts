/**
 * Opens the Node proxy's PostgreSQL database (`DATABASE_URL=postgres://…`): the only place that imports `pg`. A pool
 * of connections, the migration in `migrations/pg/sql` applied on start under an advisory lock (replicas starting at
 * once migrate one after the other), and the database registered with the schema in Postgres's dialect, so the
 * stores written once over `SqlDb` (`storage/sql-db.ts`) query it with its own tables.
 */
import { fileURLToPath } from "node:url";
import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import { pgSchema } from "../../migrations/pg/schema.ts";
import type { Schema } from "../../migrations/schema/index.ts";
import { type SqlDb, useTables } from "../sql-db.ts";

export const PG_MIGRATIONS_FOLDER = fileURLToPath(new URL("../../migrations/pg/sql", import.meta.url));

/** drizzle over a pool; `$client` is the pool, for the per-engine hot paths (ledger append, job transitions). */
export type PgDb = NodePgDatabase<typeof pgSchema> & { $client: pg.Pool };

/** Any key: only this proxy's replicas take it, around the migration. */
const MIGRATION_LOCK = 7_305_221_001;

/**
 * int8 (count, bigint columns read by raw SQL) and numeric (sum of bigints) arrive as strings by default; every
 * quantity here (tokens, micro-units, milliseconds) is far below 2^53, so numbers they are, as on SQLite. For raw
 * queries on the pool: drizzle's queries set their own parsers, so columns are mapped by the schema and raw
 * aggregates by `mapWith(Number)`.
 */
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === pg.types.builtins.INT8 || oid === pg.types.builtins.NUMERIC) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

export interface OpenPostgresOptions {
  /** Connections in the pool (default 10). */
  max?: number;
  /** Apply pending migrations (default true). */
  migrate?: boolean;
  migrationsFolder?: string;
}

export async function openPostgres(url: string, options: OpenPostgresOptions = {}): Promise<PgDb> {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10, types });
  // An idle client's error (the server restarted) is the pool's to handle: it drops the client; without a listener
  // Node would crash the process.
  pool.on("error", () => {});
  if (options.migrate ?? true) {
    const client = await pool.connect();
    try {
      await client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK]);
      await migrate(drizzle({ client }), { migrationsFolder: options.migrationsFolder ?? PG_MIGRATIONS_FOLDER });
    } finally {
      await client.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => {});
      client.release();
    }
  }
  const db = drizzle({ client: pool, schema: pgSchema }) as PgDb;
  useTables(db, pgSchema as unknown as Schema);
  return db;
}

/**
 * The same database as the stores see it. The stores are typed over SQLite's drizzle (where the one schema is
 * declared); pg-core's builders take the same calls and `tablesOf` hands them the Postgres tables.
 */
export function asSqlDb(db: PgDb): SqlDb {
  return db as unknown as SqlDb;
}

export async function closePostgres(db: PgDb): Promise<void> {
  await db.$client.end();
}
