/**
 * The D1 side of the one schema: drizzle over a D1 binding, and how D1 reports constraint failures. D1 has no
 * interactive transactions (a `batch` is atomic but cannot branch on what it reads), so the D1 stores lean on the
 * schema's constraints and on compare-and-set writes instead of check-then-insert inside a transaction.
 */
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import { type Schema, schema } from "../../migrations/schema/index.ts";

export type D1Db = DrizzleD1Database<Schema> & { $client: D1Database };

/** @example const stores = createD1Stores(openD1(env.DB)); */
export function openD1(binding: D1Database): D1Db {
  return drizzle(binding, { schema });
}

export { brokenConstraint, type Constraint, changes, isUniqueViolation } from "../sql-db.ts";
