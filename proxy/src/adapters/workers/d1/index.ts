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
  const d1 = db.$client;
  return createSqlStores(db, new D1UsageLedger(db), {
    ...options,
    // D1 runs a batch as one transaction: the rollup fold's statements commit together.
    runAtomically: async (statements) => {
      await d1.batch(statements.map((s) => d1.prepare(s)));
    },
  });
}
