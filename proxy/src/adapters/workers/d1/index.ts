import type { D1Db } from "../../../../../storage/d1/db.ts";
import { type Clock, type Stores, systemClock } from "../../../store/ports.ts";
import { SqlCustomerStore } from "../../sql/customers.ts";
import { SqlIdempotencyStore } from "../../sql/idempotency.ts";
import { SqlKeyStore } from "../../sql/keys.ts";
import { SqlNodeStore } from "../../sql/nodes.ts";
import { SqlPlanStore } from "../../sql/plans.ts";
import { D1UsageLedger } from "./usage-ledger.ts";

export { type D1Db, openD1 } from "../../../../../storage/d1/db.ts";
export { D1UsageLedger } from "./usage-ledger.ts";

/**
 * Every store over one D1 database (migrated from migrations/sql by `wrangler d1 migrations apply`).
 *
 * @example
 * const stores = createD1Stores(openD1(env.DB));
 */
export function createD1Stores(db: D1Db, options: { clock?: Clock } = {}): Stores {
  const clock = options.clock ?? systemClock;
  return {
    customers: new SqlCustomerStore(db, clock),
    keys: new SqlKeyStore(db, clock),
    plans: new SqlPlanStore(db, clock),
    ledger: new D1UsageLedger(db),
    idempotency: new SqlIdempotencyStore(db, clock),
    nodes: new SqlNodeStore(db, clock),
  };
}
