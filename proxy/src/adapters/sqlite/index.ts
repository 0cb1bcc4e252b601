import type { SqliteDb } from "../../../../storage/sqlite/open.ts";
import { type Clock, type Stores, systemClock } from "../../store/ports.ts";
import { SqlCustomerStore } from "../sql/customers.ts";
import { SqlIdempotencyStore } from "../sql/idempotency.ts";
import { SqlKeyStore } from "../sql/keys.ts";
import { SqlNodeStore } from "../sql/nodes.ts";
import { SqlPlanStore } from "../sql/plans.ts";
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
  const clock = options.clock ?? systemClock;
  return {
    customers: new SqlCustomerStore(db, clock),
    keys: new SqlKeyStore(db, clock),
    plans: new SqlPlanStore(db, clock),
    ledger: new SqliteUsageLedger(db),
    idempotency: new SqlIdempotencyStore(db, clock),
    nodes: new SqlNodeStore(db, clock),
  };
}
