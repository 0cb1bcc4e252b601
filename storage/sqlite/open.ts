/**
 * Opens the SQLite database of a Node proxy: the only place that imports better-sqlite3. Pragmas are per connection,
 * so they are set here on every open.
 */
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { type BetterSQLite3Database, drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { type Schema, schema } from "../../migrations/schema/index.ts";

export type SqliteDb = BetterSQLite3Database<Schema> & { $client: Database.Database };

export interface OpenSqliteOptions {
  /**
   * NORMAL (default): with WAL, a commit is durable against a process crash (kill -9, OOM) but the last commits can be
   * lost on power failure. FULL: every commit is fsynced and survives power loss too; group commit keeps it affordable.
   */
  synchronous?: "NORMAL" | "FULL";
  /** How long a writer waits for another process's lock before SQLITE_BUSY. */
  busyTimeoutMs?: number;
  /** Apply pending migrations from `migrationsFolder` (default true). */
  migrate?: boolean;
  migrationsFolder?: string;
}

/** migrations/sql at the repository root, found relative to this file so the cwd does not matter. */
export const DEFAULT_MIGRATIONS_FOLDER = fileURLToPath(new URL("../../migrations/sql", import.meta.url));

/**
 * @example
 * const db = openSqlite("data/proxy.db");
 * const stores = createSqliteStores(db);
 */
export function openSqlite(path: string, options: OpenSqliteOptions = {}): SqliteDb {
  const { synchronous = "NORMAL", busyTimeoutMs = 5_000, migrationsFolder = DEFAULT_MIGRATIONS_FOLDER } = options;
  const client = new Database(path);
  // WAL: readers never block the writer and a commit is one append to the WAL instead of a rewrite of the database.
  client.pragma("journal_mode = WAL");
  client.pragma(`synchronous = ${synchronous}`);
  client.pragma(`busy_timeout = ${Math.max(0, Math.trunc(busyTimeoutMs))}`);
  // Off by default in SQLite; the schema relies on it (usage rows must point at real customers, keys and prices).
  client.pragma("foreign_keys = ON");
  const db = drizzle({ client, schema });
  if (options.migrate ?? true) migrate(db, { migrationsFolder });
  return db;
}

export function closeSqlite(db: SqliteDb): void {
  db.$client.close();
}

/**
 * For a connection that mostly reads the whole ledger (the `billing:reconcile` CLI): memory-map the file and keep a
 * large page cache, so a period's scan reads pages from memory instead of one `pread` per page. Per connection.
 */
export function tuneForBulkReads(db: SqliteDb, options: { mmapBytes?: number; cacheKiB?: number } = {}): void {
  db.$client.pragma(`mmap_size = ${Math.trunc(options.mmapBytes ?? 2 ** 30)}`);
  db.$client.pragma(`cache_size = -${Math.trunc(options.cacheKiB ?? 262_144)}`);
}
