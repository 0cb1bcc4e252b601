import type { SqliteDb } from "../../../../storage/sqlite/open.ts";
import { type Clock, type Stores, systemClock } from "../../store/ports.ts";
import { SqliteCustomerStore } from "./customers.ts";
import { SqliteIdempotencyStore } from "./idempotency.ts";
import { SqliteKeyStore } from "./keys.ts";
import { SqliteNodeStore } from "./nodes.ts";
import { SqlitePlanStore } from "./plans.ts";
import { SqliteUsageLedger } from "./usage-ledger.ts";

export {
  closeSqlite,
  DEFAULT_MIGRATIONS_FOLDER,
  type OpenSqliteOptions,
  openSqlite,
  type SqliteDb,
} from "../../../../storage/sqlite/open.ts";
export { SqliteCustomerStore } from "./customers.ts";
export { SqliteIdempotencyStore } from "./idempotency.ts";
export { SqliteKeyStore } from "./keys.ts";
export { SqliteNodeStore } from "./nodes.ts";
export { SqlitePlanStore } from "./plans.ts";
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
    customers: new SqliteCustomerStore(db, clock),
    keys: new SqliteKeyStore(db, clock),
    plans: new SqlitePlanStore(db, clock),
    ledger: new SqliteUsageLedger(db),
    idempotency: new SqliteIdempotencyStore(db, clock),
    nodes: new SqliteNodeStore(db, clock),
  };
}
