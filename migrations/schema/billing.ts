import { sql } from "drizzle-orm";
import { check, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { customers } from "./customers.ts";
import { plans } from "./plans.ts";
import { priceVersions } from "./price-versions.ts";
import { createdAt, epochMs, micros, nonNegativeInteger, nullOrNonNegativeInteger, oneOf } from "./util.ts";

/*
 * Billing's own tables: the state of the sync of each customer's period to a Stripe invoice, the Stripe objects that
 * mirror plans, price versions and enterprise subscriptions, processed webhook events, and unpaid invoices. Stripe is
 * the system of record for invoices; these rows are what makes the sync resumable and idempotent.
 */

/**
 * `planned` → `invoice_created` → `items_created` → `finalized` → `reconciled` (or `drift`), or at planning time
 * `nothing_to_bill` / `blocked`. Every transition is a compare-and-set on the state, written after the Stripe call it
 * records, so a crash between the two is resumed by repeating the call with the same idempotency key (or adopting the
 * object found by its metadata).
 */
export const INVOICE_SYNC_STATES = [
  "planned",
  "invoice_created",
  "items_created",
  "finalized",
  "reconciled",
  "drift",
  "nothing_to_bill",
  "blocked",
] as const;
export type InvoiceSyncState = (typeof INVOICE_SYNC_STATES)[number];

export const billingInvoiceSyncs = sqliteTable(
  "billing_invoice_syncs",
  {
    customerId: text("customer_id")
      .notNull()
      .references(() => customers.id),
    /** "YYYY-MM": a calendar month in `time_zone`. */
    period: text("period").notNull(),
    state: text("state", { enum: INVOICE_SYNC_STATES }).notNull(),
    /** null only when there was no usage, or usage in several currencies (`blocked`). */
    currency: text("currency"),
    timeZone: text("time_zone").notNull(),
    fromMs: epochMs("from_ms").notNull(),
    toMs: epochMs("to_ms").notNull(),
    events: integer("events").notNull(),
    tokens: integer("tokens").notNull(),
    /** Σ of the period's lines (ledger amounts; enterprise overage), exact micros. */
    ledgerMicros: micros("ledger_micros").notNull(),
    /** Sub-step remainder carried in from the previous period / out to the next one (< one chargeable step). */
    carryInMicros: micros("carry_in_micros").notNull(),
    carryOutMicros: micros("carry_out_micros").notNull(),
    /** What the invoice bills: ledger + carry-in − carry-out, a whole number of chargeable steps. */
    billedMicros: micros("billed_micros").notNull(),
    /** `billed_micros` in Stripe minor units (cents, yen …). */
    totalMinor: integer("total_minor").notNull(),
    /** The frozen plan (lines with descriptions and amounts, drift notes): every Stripe call is made from it. */
    plan: text("plan", { mode: "json" }).$type<unknown>().notNull(),
    stripeCustomerId: text("stripe_customer_id"),
    stripeInvoiceId: text("stripe_invoice_id"),
    stripeInvoiceStatus: text("stripe_invoice_status"),
    stripeInvoiceNumber: text("stripe_invoice_number"),
    stripeTotalMinor: integer("stripe_total_minor"),
    /** Why the sync is `blocked` or in `drift`. */
    error: text("error"),
    createdAt: createdAt(),
    updatedAt: epochMs("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ name: "billing_invoice_syncs_pk", columns: [t.customerId, t.period] }),
    uniqueIndex("billing_invoice_syncs_stripe_invoice_unique").on(t.stripeInvoiceId),
    index("billing_invoice_syncs_period_idx").on(t.period, t.state),
    oneOf("billing_invoice_syncs_state_check", t.state, INVOICE_SYNC_STATES),
    check("billing_invoice_syncs_period_check", sql`${t.period} glob '[0-9][0-9][0-9][0-9]-[0-1][0-9]'`),
    nonNegativeInteger("billing_invoice_syncs_ledger_check", t.ledgerMicros),
    nonNegativeInteger("billing_invoice_syncs_carry_in_check", t.carryInMicros),
    nonNegativeInteger("billing_invoice_syncs_carry_out_check", t.carryOutMicros),
    nonNegativeInteger("billing_invoice_syncs_billed_check", t.billedMicros),
    nonNegativeInteger("billing_invoice_syncs_total_check", t.totalMinor),
    check(
      "billing_invoice_syncs_exact_check",
      sql`${t.billedMicros} + ${t.carryOutMicros} = ${t.ledgerMicros} + ${t.carryInMicros}`,
    ),
    nullOrNonNegativeInteger("billing_invoice_syncs_stripe_total_check", t.stripeTotalMinor),
  ],
);

/** The Stripe invoice item created for each planned line (one row per line once it exists in Stripe). */
export const billingInvoiceLines = sqliteTable(
  "billing_invoice_lines",
  {
    customerId: text("customer_id").notNull(),
    period: text("period").notNull(),
    lineKey: text("line_key").notNull(),
    stripeInvoiceItemId: text("stripe_invoice_item_id").notNull().unique(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ name: "billing_invoice_lines_pk", columns: [t.customerId, t.period, t.lineKey] })],
);

/** The Stripe Product of each plan. */
export const billingStripeProducts = sqliteTable("billing_stripe_products", {
  planId: text("plan_id")
    .primaryKey()
    .references(() => plans.id),
  stripeProductId: text("stripe_product_id").notNull().unique(),
  createdAt: createdAt(),
});

export const STRIPE_PRICE_ROLES = ["offpeak", "peak", "batch", "overage", "fee"] as const;
export type StripePriceRole = (typeof STRIPE_PRICE_ROLES)[number];

/**
 * The Stripe Prices of each price version. Stripe prices are immutable and so are versions: a new version gets new
 * prices, an old version keeps its own (old invoices still point at them).
 */
export const billingStripePrices = sqliteTable(
  "billing_stripe_prices",
  {
    priceVersionId: text("price_version_id")
      .notNull()
      .references(() => priceVersions.id),
    role: text("role", { enum: STRIPE_PRICE_ROLES }).notNull(),
    stripePriceId: text("stripe_price_id").notNull().unique(),
    stripeProductId: text("stripe_product_id").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ name: "billing_stripe_prices_pk", columns: [t.priceVersionId, t.role] }),
    oneOf("billing_stripe_prices_role_check", t.role, STRIPE_PRICE_ROLES),
  ],
);

/** An enterprise customer's Stripe subscription for the monthly fee. */
export const billingSubscriptions = sqliteTable("billing_subscriptions", {
  customerId: text("customer_id")
    .primaryKey()
    .references(() => customers.id),
  stripeSubscriptionId: text("stripe_subscription_id").notNull().unique(),
  stripePriceId: text("stripe_price_id").notNull(),
  priceVersionId: text("price_version_id").notNull(),
  /** Stripe's status ("active", "canceled" …) as last seen. */
  status: text("status").notNull(),
  createdAt: createdAt(),
  updatedAt: epochMs("updated_at").notNull(),
});

export const WEBHOOK_EVENT_STATES = ["processing", "done"] as const;
export type WebhookEventState = (typeof WEBHOOK_EVENT_STATES)[number];

/** Stripe events received, by id: delivery is at least once, so an event is processed once and acknowledged after. */
export const billingWebhookEvents = sqliteTable(
  "billing_webhook_events",
  {
    eventId: text("event_id").primaryKey(),
    type: text("type").notNull(),
    state: text("state", { enum: WEBHOOK_EVENT_STATES }).notNull(),
    /** What processing did ("suspended cus_1", "unknown customer cus_x", "ignored"). */
    outcome: text("outcome"),
    attempts: integer("attempts").notNull().default(1),
    /** When the current attempt started; an attempt older than the stale limit belongs to a process that died. */
    receivedAt: epochMs("received_at").notNull(),
    processedAt: epochMs("processed_at"),
  },
  (t) => [oneOf("billing_webhook_events_state_check", t.state, WEBHOOK_EVENT_STATES)],
);

/** Invoices whose payment failed; a customer with one unpaid past the grace period is suspended until it is paid. */
export const billingUnpaidInvoices = sqliteTable(
  "billing_unpaid_invoices",
  {
    stripeInvoiceId: text("stripe_invoice_id").primaryKey(),
    customerId: text("customer_id")
      .notNull()
      .references(() => customers.id),
    firstFailedAt: epochMs("first_failed_at").notNull(),
    lastFailedAt: epochMs("last_failed_at").notNull(),
    failures: integer("failures").notNull(),
    paidAt: epochMs("paid_at"),
    /** Set when the grace period ran out and the customer's keys were suspended for this invoice. */
    suspendedAt: epochMs("suspended_at"),
  },
  (t) => [
    index("billing_unpaid_invoices_customer_idx").on(t.customerId),
    index("billing_unpaid_open_idx").on(t.paidAt),
  ],
);
