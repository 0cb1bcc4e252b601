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

export type Constraint =
  | { kind: "unique"; columns: string }
  | { kind: "primary_key"; columns: string }
  | { kind: "foreign_key" }
  | { kind: "check" };

/**
 * Which constraint a failed statement broke, from SQLite's message (D1 passes it through, drizzle wraps it in a
 * query error whose `cause` is D1's). Null when the error is not a constraint failure: storage itself failed.
 */
export function brokenConstraint(error: unknown): Constraint | null {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const unique = /UNIQUE constraint failed: ([\w.,\s]+?)(?::|$)/.exec(e.message);
    if (unique?.[1]) return { kind: "unique", columns: unique[1].replaceAll(" ", "") };
    const pk = /PRIMARY KEY constraint failed: ([\w.,\s]+?)(?::|$)/.exec(e.message);
    if (pk?.[1]) return { kind: "primary_key", columns: pk[1].replaceAll(" ", "") };
    if (e.message.includes("FOREIGN KEY constraint failed")) return { kind: "foreign_key" };
    if (e.message.includes("CHECK constraint failed")) return { kind: "check" };
  }
  return null;
}

/** True when `error` is the UNIQUE (or PRIMARY KEY) failure of exactly these `table.column` names. */
export function isUniqueViolation(error: unknown, columns: string): boolean {
  const c = brokenConstraint(error);
  return (c?.kind === "unique" || c?.kind === "primary_key") && c.columns === columns;
}

/** Rows a `run()` changed (D1's `meta.changes`). */
export const changes = (result: D1Result): number => result.meta.changes ?? 0;
