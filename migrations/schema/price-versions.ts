import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, unique } from "drizzle-orm/sqlite-core";
import { plans } from "./plans.ts";
import {
  basisPoints,
  createdAt,
  epochMs,
  micros,
  nonNegativeInteger,
  nullOrNonNegativeInteger,
  type PeakWindow,
  textId,
} from "./util.ts";

/**
 * Effective-dated prices of a plan. Rows are append-only: a price change is a new version whose `effective_from`
 * lies in the future, so usage is always rated by the version in force at its own time (greatest
 * `effective_from` ≤ event time) and re-rating history gives the same amounts.
 */
export const priceVersions = sqliteTable(
  "price_versions",
  {
    id: textId(),
    planId: text("plan_id")
      .notNull()
      .references(() => plans.id),
    /** 1, 2, 3 … per plan. */
    version: integer("version").notNull(),
    effectiveFrom: epochMs("effective_from").notNull(),
    /** Micro-units of the plan's currency per 1,000 tokens. */
    unitPriceMicrosPer1kTokens: micros("unit_price_micros_per_1k_tokens").notNull(),
    /** Local-time windows (plan time zone) in which `peak_multiplier_bp` applies. JSON array. */
    peakWindows: text("peak_windows", { mode: "json" }).$type<PeakWindow[]>().notNull().default(sql`'[]'`),
    peakMultiplierBp: basisPoints("peak_multiplier_bp").notNull().default(10_000),
    /** Discount on batch-priority requests, in basis points off the price (2,500 = 25 % off). */
    batchDiscountBp: basisPoints("batch_discount_bp").notNull().default(0),
    /** Enterprise: fixed monthly fee, tokens it includes, and the price of tokens beyond them. */
    monthlyFeeMicros: micros("monthly_fee_micros").notNull().default(0),
    includedTokens: integer("included_tokens").notNull().default(0),
    overagePriceMicrosPer1kTokens: micros("overage_price_micros_per_1k_tokens"),
    /** Filled by billing when the version is mirrored to Stripe. */
    stripeProductId: text("stripe_product_id"),
    stripePriceId: text("stripe_price_id"),
    createdAt: createdAt(),
  },
  (t) => [
    unique("price_versions_plan_version_unique").on(t.planId, t.version),
    // versionAt(plan, time): the greatest effective_from ≤ time is one index seek.
    index("price_versions_plan_effective_idx").on(t.planId, t.effectiveFrom),
    check("price_versions_version_check", sql`${t.version} > 0`),
    nonNegativeInteger("price_versions_unit_price_check", t.unitPriceMicrosPer1kTokens),
    nonNegativeInteger("price_versions_peak_multiplier_check", t.peakMultiplierBp),
    check("price_versions_batch_discount_check", sql`${t.batchDiscountBp} between 0 and 10000`),
    nonNegativeInteger("price_versions_monthly_fee_check", t.monthlyFeeMicros),
    nonNegativeInteger("price_versions_included_tokens_check", t.includedTokens),
    nullOrNonNegativeInteger("price_versions_overage_price_check", t.overagePriceMicrosPer1kTokens),
  ],
);
