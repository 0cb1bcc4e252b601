import type { D1Db } from "../../../../../storage/d1/db.ts";
import type { Clock, Stores } from "../../../store/ports.ts";
import { createSqlStores } from "../../sql/index.ts";
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
  return createSqlStores(db, new D1UsageLedger(db), options);
}
