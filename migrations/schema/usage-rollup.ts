import { sql } from "drizzle-orm";
import { check, index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { epochMs, flag, micros, nonNegativeInteger } from "./util.ts";

/*
 * Rollups of `usage_events` for the admin reports (revenue by day, plan and customer; the price preview), so a month
 * of every customer's usage is read from thousands of rows instead of a million. They are folded from the ledger by
 * row id (`usage_rollup_state.folded_through`: every ledger row with id ≤ it is in the rollups, none above it), in one
 * transaction with the watermark, so a fold is exact and idempotent; the ledger's hot path is untouched. Days are UTC
 * (`day_ms` = the UTC midnight, epoch ms); a report over local days or a partial day adds the ledger rows of the edges.
 */

/** Per UTC day, customer, plan, peak flag and currency: sums of the ledger's counts and money. */
export const usageDaily = sqliteTable(
  "usage_daily",
  {
    dayMs: epochMs("day_ms").notNull(),
    customerId: text("customer_id").notNull(),
    planId: text("plan_id").notNull(),
    peak: flag("peak").notNull(),
    currency: text("currency").notNull(),
    events: integer("events", { mode: "number" }).notNull(),
    tokens: integer("tokens", { mode: "number" }).notNull(),
    audioMs: integer("audio_ms", { mode: "number" }).notNull(),
    inputChars: integer("input_chars", { mode: "number" }).notNull(),
    amountMicros: micros("amount_micros").notNull(),
  },
  (t) => [
    primaryKey({
      name: "usage_daily_pk",
      columns: [t.dayMs, t.planId, t.customerId, t.peak, t.currency],
    }),
    // one customer's days (the admin's per-customer totals of a month)
    index("usage_daily_customer_day_idx").on(t.customerId, t.dayMs),
    nonNegativeInteger("usage_daily_amount_check", t.amountMicros),
    nonNegativeInteger("usage_daily_tokens_check", t.tokens),
  ],
);

/** The same per UTC day, plan, peak flag and currency over all customers: a month of totals is a few hundred rows. */
export const usageDailyPlans = sqliteTable(
  "usage_daily_plans",
  {
    dayMs: epochMs("day_ms").notNull(),
    planId: text("plan_id").notNull(),
    peak: flag("peak").notNull(),
    currency: text("currency").notNull(),
    events: integer("events", { mode: "number" }).notNull(),
    tokens: integer("tokens", { mode: "number" }).notNull(),
    audioMs: integer("audio_ms", { mode: "number" }).notNull(),
    inputChars: integer("input_chars", { mode: "number" }).notNull(),
    amountMicros: micros("amount_micros").notNull(),
  },
  (t) => [
    primaryKey({ name: "usage_daily_plans_pk", columns: [t.dayMs, t.planId, t.peak, t.currency] }),
    nonNegativeInteger("usage_daily_plans_amount_check", t.amountMicros),
    nonNegativeInteger("usage_daily_plans_tokens_check", t.tokens),
  ],
);

/** Per UTC calendar month (`month_ms` = its first midnight), customer, peak flag and currency: who earned most. */
export const usageMonthlyCustomers = sqliteTable(
  "usage_monthly_customers",
  {
    monthMs: epochMs("month_ms").notNull(),
    customerId: text("customer_id").notNull(),
    peak: flag("peak").notNull(),
    currency: text("currency").notNull(),
    events: integer("events", { mode: "number" }).notNull(),
    tokens: integer("tokens", { mode: "number" }).notNull(),
    amountMicros: micros("amount_micros").notNull(),
  },
  (t) => [
    primaryKey({ name: "usage_monthly_customers_pk", columns: [t.monthMs, t.customerId, t.peak, t.currency] }),
    nonNegativeInteger("usage_monthly_customers_amount_check", t.amountMicros),
  ],
);

/**
 * How many events of each token count, per UTC day, plan, peak flag and currency. Rating rounds each event's amount
 * once (half up), so re-pricing a month exactly needs the count of events per token count, not just the token sum:
 * Σ count × price(tokens) is then exactly Σ price(event).
 */
export const usageTokenCounts = sqliteTable(
  "usage_token_counts",
  {
    dayMs: epochMs("day_ms").notNull(),
    planId: text("plan_id").notNull(),
    peak: flag("peak").notNull(),
    currency: text("currency").notNull(),
    tokens: integer("tokens", { mode: "number" }).notNull(),
    events: integer("events", { mode: "number" }).notNull(),
  },
  (t) => [
    primaryKey({ name: "usage_token_counts_pk", columns: [t.planId, t.dayMs, t.peak, t.currency, t.tokens] }),
    nonNegativeInteger("usage_token_counts_events_check", t.events),
  ],
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
