import { asSqlDb, type PgDb } from "../../../../storage/pg/open.ts";
import type { Clock, Stores } from "../../store/ports.ts";
import { createSqlStores } from "../sql/index.ts";
import { PostgresUsageLedger } from "./usage-ledger.ts";
import { postgresFoldHooks } from "./usage-reports.ts";

export { PostgresUsageLedger } from "./usage-ledger.ts";

/**
 * Every store over one Postgres pool: the stores written once over `SqlDb`, and the ledger whose append is
 * Postgres's own, and the usage rollups' fold with its two Postgres hooks. Wrap the ledger in a `GroupCommitLedger` for request traffic (one commit per batch).
 */
export function createPostgresStores(db: PgDb, options: { clock?: Clock } = {}): Stores {
  return createSqlStores(asSqlDb(db), new PostgresUsageLedger(db), { ...options, ...postgresFoldHooks(db) });
}
