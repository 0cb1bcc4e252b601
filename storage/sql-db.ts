/**
 * Drizzle over either SQLite engine, for stores written once: better-sqlite3 (sync, the Node proxy's embedded
 * default) and D1 (async, Workers). A store typed over `SqlDb` awaits every query, which runs the same statements on
 * both; it never opens an interactive transaction (D1 has none), so a write is one statement guarded by the schema's
 * constraints or by compare-and-set, and "first writer wins" is insert-or-ignore, then read back. Only where an
 * engine truly differs (opening, the SQLite checkpointer, the ledger append and job claim hot paths) is there code
 * per engine.
 */
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import { type Schema, schema } from "../migrations/schema/index.ts";

export type SqlDb = BaseSQLiteDatabase<"sync" | "async", unknown, Schema>;

/**
 * Postgres runs the same stores: drizzle's pg-core builders take the same calls (select/insert/update/delete,
 * `returning`, `onConflictDoNothing`), so a store that awaits its builders and takes its tables from `tablesOf(db)`
 * runs unchanged on a Postgres database registered with `useTables` (`storage/pg/open.ts`), which brings the schema
 * derived in its dialect (`migrations/pg/schema.ts`). The types stay SQLite's: the one schema is declared there and
 * the derived tables have the same fields and row types.
 */
const tablesByDb = new WeakMap<object, Schema>();

export function useTables(db: object, tables: Schema): void {
  tablesByDb.set(db, tables);
}

/** The tables to query `db` with: SQLite's (SQLite, D1) unless the database was opened with others. */
export function tablesOf(db: SqlDb): Schema {
  return tablesByDb.get(db) ?? schema;
}

/** True for a database opened by `storage/pg/open.ts`: for the rare call whose API differs (pg-core's named prepare). */
export function isPostgres(db: SqlDb): boolean {
  return tablesByDb.has(db);
}

/** The first row of a result, for `.then(first)`: `get()` exists on SQLite's builders only. */
export function first<T>(rows: readonly T[]): T | undefined {
  return rows[0];
}

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
    const pg = pgConstraint(e);
    if (pg) return pg;
    const unique = /UNIQUE constraint failed: ([\w.,\s]+?)(?::|$)/.exec(e.message);
    if (unique?.[1]) return { kind: "unique", columns: unique[1].replaceAll(" ", "") };
    const pk = /PRIMARY KEY constraint failed: ([\w.,\s]+?)(?::|$)/.exec(e.message);
    if (pk?.[1]) return { kind: "primary_key", columns: pk[1].replaceAll(" ", "") };
    if (e.message.includes("FOREIGN KEY constraint failed")) return { kind: "foreign_key" };
    if (e.message.includes("CHECK constraint failed")) return { kind: "check" };
  }
  return null;
}

/**
 * The same answer from a Postgres error (SQLSTATE class 23), named SQLite's way: `table.column[,table.column]`, the
 * columns read from the detail ("Key (a, b)=(…) already exists.").
 */
function pgConstraint(e: Error): Constraint | null {
  const { code, table, detail } = e as Error & { code?: unknown; table?: string; detail?: string };
  if (code === "23503") return { kind: "foreign_key" };
  if (code === "23514") return { kind: "check" };
  if (code !== "23505") return null;
  const columns = /^Key \(([^)]*)\)=/.exec(detail ?? "")?.[1] ?? "";
  return {
    kind: "unique",
    columns: columns
      .split(",")
      .map((c) => `${table}.${c.trim().replaceAll('"', "")}`)
      .join(","),
  };
}

/** True when `error` is the UNIQUE (or PRIMARY KEY) failure of exactly these `table.column` names. */
export function isUniqueViolation(error: unknown, columns: string): boolean {
  const c = brokenConstraint(error);
  return (c?.kind === "unique" || c?.kind === "primary_key") && c.columns === columns;
}

/** Rows a write changed, whichever engine ran it (better-sqlite3: `changes`; D1: `meta.changes`; pg: `rowCount`). */
export function changes(result: unknown): number {
  const r = result as { changes?: number; meta?: { changes?: number }; rowCount?: number | null } | null | undefined;
  return r?.changes ?? r?.meta?.changes ?? r?.rowCount ?? 0;
}
