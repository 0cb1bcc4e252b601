import type { SqliteDb } from "../../../../storage/sqlite/open.ts";
import type { Clock, Stores } from "../../store/ports.ts";
import { createSqlStores } from "../sql/index.ts";
import type { RunAtomically } from "../sql/usage-reports.ts";
import { SqliteUsageLedger } from "./usage-ledger.ts";

export {
  closeSqlite,
  DEFAULT_MIGRATIONS_FOLDER,
  type OpenSqliteOptions,
  openSqlite,
  type SqliteDb,
} from "../../../../storage/sqlite/open.ts";
export { SqliteUsageLedger } from "./usage-ledger.ts";

/**
 * Every store over one SQLite connection. The ledger here commits one transaction per `append`; wrap it in a
 * `GroupCommitLedger` for request traffic.
 *
 * @example
 * const db = openSqlite("data/proxy.db");
 * const stores = createSqliteStores(db);
 * const ledger = new GroupCommitLedger(stores.ledger, { maxDelayMs: 2 });
 */
export function createSqliteStores(db: SqliteDb, options: { clock?: Clock } = {}): Stores {
  return createSqlStores(db, new SqliteUsageLedger(db), {
    ...options,
    runAtomically: sqliteRunAtomically(db),
  });
}

/** Statements in one IMMEDIATE transaction (the rollup fold's), each prepared once. */
export function sqliteRunAtomically(db: SqliteDb): RunAtomically {
  const client = db.$client;
  const prepared = new Map<string, { run(): unknown }>();
  const run = client.transaction((statements: readonly string[]) => {
    for (const s of statements) {
      const p = prepared.get(s) ?? client.prepare(s);
      prepared.set(s, p);
      p.run();
    }
  });
  return async (statements) => run.immediate(statements);
}
