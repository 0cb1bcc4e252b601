import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { apiKeys } from "./api-keys.ts";
import { customers } from "./customers.ts";
import { plans } from "./plans.ts";
import { priceVersions } from "./price-versions.ts";
import { basisPoints, epochMs, flag, micros, nonNegativeInteger, oneOf } from "./util.ts";

export const PRIORITIES = ["interactive", "batch"] as const;
export type Priority = (typeof PRIORITIES)[number];

/**
 * What sent a request: the API itself, the customer console's playground, or a batch job's item. Every source is
 * metered and billed alike; the marker only lets usage say where it came from.
 */
export const USAGE_SOURCES = ["api", "playground", "job"] as const;
export type UsageSource = (typeof USAGE_SOURCES)[number];

/**
 * The usage ledger: one append-only row per billed request, rated when it happened. `request_id` is UNIQUE so a
 * retried write (or a retried request that reuses its request id) is counted once. Billing aggregates it per customer
 * and period, hence (customer_id, occurred_at).
 */
export const usageEvents = sqliteTable(
  "usage_events",
  {
    // AUTOINCREMENT: ids are never reused, so billing can export "everything after id N" as a cursor.
    id: integer("id").primaryKey({ autoIncrement: true }),
    requestId: text("request_id").notNull().unique(),
    customerId: text("customer_id")
      .notNull()
      .references(() => customers.id),
    apiKeyId: text("api_key_id")
      .notNull()
      .references(() => apiKeys.id),
    planId: text("plan_id")
      .notNull()
      .references(() => plans.id),
    priceVersionId: text("price_version_id")
      .notNull()
      .references(() => priceVersions.id),
    occurredAt: epochMs("occurred_at").notNull(),
    audioMs: integer("audio_ms").notNull(),
    tokens: integer("tokens").notNull(),
    inputChars: integer("input_chars").notNull(),
    /** Whether the event fell in a peak window of its price version. */
    peak: flag("peak").notNull(),
    /** The peak multiplier applied (10,000 when off-peak). */
    multiplierBp: basisPoints("multiplier_bp").notNull(),
    /** The rated amount in micro-units of `currency`. */
    amountMicros: micros("amount_micros").notNull(),
    currency: text("currency").notNull(),
    /** The GPU node that served it (no foreign key: nodes come and go, history stays). */
    nodeId: text("node_id"),
    priority: text("priority", { enum: PRIORITIES }).notNull(),
    /**
     * Added after the ledger held rows (they read "api"). Checked by the stores' validation, not by a CHECK: SQLite
     * cannot add a table CHECK without rebuilding a table of millions of rows.
     */
    source: text("source", { enum: USAGE_SOURCES }).notNull().default("api"),
  },
  (t) => [
    index("usage_events_customer_occurred_idx").on(t.customerId, t.occurredAt),
    index("usage_events_occurred_idx").on(t.occurredAt),
    oneOf("usage_events_priority_check", t.priority, PRIORITIES),
    nonNegativeInteger("usage_events_amount_check", t.amountMicros),
    nonNegativeInteger("usage_events_tokens_check", t.tokens),
    nonNegativeInteger("usage_events_audio_ms_check", t.audioMs),
    nonNegativeInteger("usage_events_input_chars_check", t.inputChars),
    nonNegativeInteger("usage_events_multiplier_check", t.multiplierBp),
  ],
);
