import { sql } from "drizzle-orm";
import { type AnySQLiteColumn, check, customType, integer, text } from "drizzle-orm/sqlite-core";

/*
 * Column helpers shared by every table. The conventions they encode are the contract with billing:
 * - money is an integer count of micro-units of the plan's currency (1 USD = 1,000,000). Never a float: a REAL column
 *   would round sums. JS numbers hold integers exactly up to 2^53 (≈ 9 billion currency units), far above any invoice;
 * - multipliers and discounts are integer basis points (10,000 = 1.0×, 2,500 = 25 %);
 * - times are integer epoch milliseconds (UTC). Local time only exists when a time zone is applied at read time.
 */

/** Epoch milliseconds (UTC). */
export const epochMs = (name: string) => integer(name, { mode: "number" });

/** Integer micro-units of a currency. */
export const micros = (name: string) => integer(name, { mode: "number" });

/** Integer basis points: 10,000 = 1.0×. */
export const basisPoints = (name: string) => integer(name, { mode: "number" });

/** A 0/1 integer read back as a boolean. */
export const flag = (name: string) => integer(name, { mode: "boolean" });

/** When the row was created, set by the store from its injected clock (not by SQLite, so tests control time). */
export const createdAt = () => epochMs("created_at").notNull();

/** A string id chosen by the application (`cus_…`, `key_…`), never an autoincrement exposed to customers. */
export const textId = (name = "id") => text(name).primaryKey();

const sqlList = (values: readonly string[]): string => values.map((v) => `'${v.replaceAll("'", "''")}'`).join(",");

/** CHECK that an enum column holds one of its values (SQLite has no enum type). */
export const oneOf = (name: string, column: AnySQLiteColumn, values: readonly string[]) =>
  check(name, sql`${column} in (${sql.raw(sqlList(values))})`);

/**
 * CHECK that a column holds a non-negative INTEGER. SQLite would silently store 1.5 in an INTEGER column as REAL;
 * money and counts must stay exact integers.
 */
export const nonNegativeInteger = (name: string, column: AnySQLiteColumn) =>
  check(name, sql`typeof(${column}) = 'integer' and ${column} >= 0`);

/** Same, for a nullable column. */
export const nullOrNonNegativeInteger = (name: string, column: AnySQLiteColumn) =>
  check(name, sql`${column} is null or (typeof(${column}) = 'integer' and ${column} >= 0)`);

/**
 * Binary data as a web-standard Uint8Array. better-sqlite3 hands back a Node Buffer (a Uint8Array subclass) and D1 an
 * ArrayBuffer or an array of numbers;
 * callers always see a plain Uint8Array.
 */
export const bytes = customType<{ data: Uint8Array; driverData: Uint8Array | ArrayBuffer | number[] }>({
  dataType: () => "blob",
  toDriver: (value) => value,
  // Copies a Buffer or an array (a Buffer's memory may be shared); views an ArrayBuffer.
  fromDriver: (value) => new Uint8Array(value),
});

/** A peak window: local wall-clock time `start` ≤ t < `end` on the listed weekdays (0 = Sunday … 6 = Saturday). */
export interface PeakWindow {
  days: number[];
  /** "HH:MM", 24-hour, local time in the plan's time zone. */
  start: string;
  /** "HH:MM"; an `end` at or before `start` runs past midnight into the next day. */
  end: string;
}
