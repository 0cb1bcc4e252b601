/**
 * Drizzle over either SQLite engine, for stores written once: better-sqlite3 (sync, the Node proxy's embedded
 * default) and D1 (async, Workers). A store typed over `SqlDb` awaits every query, which runs the same statements on
 * both; it never opens an interactive transaction (D1 has none), so a write is one statement guarded by the schema's
 * constraints or by compare-and-set, and "first writer wins" is insert-or-ignore, then read back. Only where an
 * engine truly differs (opening, the SQLite checkpointer, the ledger append and job claim hot paths) is there code
 * per engine.
 */
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import type { Schema } from "../migrations/schema/index.ts";

export type SqlDb = BaseSQLiteDatabase<"sync" | "async", unknown, Schema>;

export type Constraint =
  | { kind: "unique"; columns: string }
  | { kind: "primary_key"; columns: string }
  | { kind: "foreign_key" }
  | { kind: "check" };

/**
 * Which constraint a failed statement broke, from SQLite's message (better-sqlite3 and D1 both pass it through;
 * drizzle may wrap it in a query error whose `cause` is the engine's). Null when the error is not a constraint
 * failure: storage itself failed.
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

/** Rows a `run()` changed, whichever engine ran it (better-sqlite3: `changes`; D1: `meta.changes`). */
export function changes(result: unknown): number {
  const r = result as { changes?: number; meta?: { changes?: number } } | null | undefined;
  return r?.changes ?? r?.meta?.changes ?? 0;
}
