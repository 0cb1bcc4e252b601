import { type BuildColumns, sql } from "drizzle-orm";
import {
  type AnySQLiteColumn,
  check,
  type IndexBuilder,
  index,
  integer,
  primaryKey,
  type SQLiteColumnBuilderBase,
  type SQLiteTableWithColumns,
  sqliteTable,
  text,
} from "drizzle-orm/sqlite-core";
import { epochMs, flag, micros, nonNegativeInteger } from "./util.ts";

/*
 * Rollups of `usage_events` for the admin reports (revenue by day, plan and customer; the price preview), so a month
 * of every customer's usage is read from thousands of rows instead of a million. They are folded from the ledger by
 * row id (`usage_rollup_state.folded_through`: every ledger row with id ≤ it is in the rollups, none above it), in one
 * transaction with the watermark, so a fold is exact and idempotent; the ledger's hot path is untouched. Days are UTC
 * (`day_ms` = the UTC midnight, epoch ms); a report over local days or a partial day adds the ledger rows of the edges.
 */

const count = (name: string) => integer(name, { mode: "number" }).notNull();

/** The columns the rollups are keyed and summed by, each a fresh builder (a builder belongs to one table). */
const columns = {
  dayMs: () => epochMs("day_ms").notNull(),
  monthMs: () => epochMs("month_ms").notNull(),
  customerId: () => text("customer_id").notNull(),
  planId: () => text("plan_id").notNull(),
  peak: () => flag("peak").notNull(),
  currency: () => text("currency").notNull(),
  events: () => count("events"),
  tokens: () => count("tokens"),
  audioMs: () => count("audio_ms"),
  inputChars: () => count("input_chars"),
  amountMicros: () => micros("amount_micros").notNull(),
};
type Field = keyof typeof columns;
type Columns<F extends Field> = { [K in F]: ReturnType<(typeof columns)[K]> };

/**
 * A rollup table: `fields` (in column order), the primary key `${name}_pk` over `key`, a non-negative CHECK
 * `${name}_${suffix}_check` per entry of `nonNegative`, and any `indexes`.
 */
function rollupTable<N extends string, F extends Field>(
  name: N,
  fields: readonly F[],
  options: {
    key: readonly F[];
    nonNegative: Partial<Record<string, F>>;
    indexes?: (column: (field: F) => AnySQLiteColumn) => IndexBuilder[];
  },
) {
  const built = Object.fromEntries(fields.map((f) => [f, columns[f]()])) as Record<string, SQLiteColumnBuilderBase>;
  const table = sqliteTable(name, built, (t) => {
    const column = (field: F) => (t as unknown as Record<F, AnySQLiteColumn>)[field];
    return [
      primaryKey({ name: `${name}_pk`, columns: options.key.map(column) as [AnySQLiteColumn] }),
      ...(options.indexes?.(column) ?? []),
      ...Object.entries(options.nonNegative).map(([suffix, f]) =>
        nonNegativeInteger(`${name}_${suffix}_check`, column(f as F)),
      ),
    ];
  });
  // The columns as declared (sqliteTable cannot infer them through the generic field list).
  return table as unknown as SQLiteTableWithColumns<{
    name: N;
    schema: undefined;
    columns: BuildColumns<N, Columns<F>, "sqlite">;
    dialect: "sqlite";
  }>;
}

const SUMS = ["events", "tokens", "audioMs", "inputChars", "amountMicros"] as const;

/** Per UTC day, customer, plan, peak flag and currency: sums of the ledger's counts and money. */
export const usageDaily = rollupTable("usage_daily", ["dayMs", "customerId", "planId", "peak", "currency", ...SUMS], {
  key: ["dayMs", "planId", "customerId", "peak", "currency"],
  nonNegative: { amount: "amountMicros", tokens: "tokens" },
  // one customer's days (the admin's per-customer totals of a month)
  indexes: (c) => [index("usage_daily_customer_day_idx").on(c("customerId"), c("dayMs"))],
});

/** The same per UTC day, plan, peak flag and currency over all customers: a month of totals is a few hundred rows. */
export const usageDailyPlans = rollupTable("usage_daily_plans", ["dayMs", "planId", "peak", "currency", ...SUMS], {
  key: ["dayMs", "planId", "peak", "currency"],
  nonNegative: { amount: "amountMicros", tokens: "tokens" },
});

/** Per UTC calendar month (`month_ms` = its first midnight), customer, peak flag and currency: who earned most. */
export const usageMonthlyCustomers = rollupTable(
  "usage_monthly_customers",
  ["monthMs", "customerId", "peak", "currency", "events", "tokens", "amountMicros"],
  { key: ["monthMs", "customerId", "peak", "currency"], nonNegative: { amount: "amountMicros" } },
);

/**
 * How many events of each token count, per UTC day, plan, peak flag and currency. Rating rounds each event's amount
 * once (half up), so re-pricing a month exactly needs the count of events per token count, not just the token sum:
 * Σ count × price(tokens) is then exactly Σ price(event).
 */
export const usageTokenCounts = rollupTable(
  "usage_token_counts",
  ["dayMs", "planId", "peak", "currency", "tokens", "events"],
  { key: ["planId", "dayMs", "peak", "currency", "tokens"], nonNegative: { events: "events" } },
);

/** One row (id 1): the greatest ledger row id folded into the rollups. */
export const usageRollupState = sqliteTable(
  "usage_rollup_state",
  {
    id: integer("id").primaryKey(),
    foldedThrough: integer("folded_through", { mode: "number" }).notNull(),
  },
  (t) => [check("usage_rollup_state_single_row", sql`${t.id} = 1`)],
);
