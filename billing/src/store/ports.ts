/**
 * Billing's storage ports. Implementations: in-memory (`./memory.ts`, tests and single-process dev), SQLite
 * (`./sqlite/`) and D1 (`./d1/`), which run the same contract suites (`./*.contract.ts`). Every method is async for
 * that reason. Billing also reads and changes the customers and prices the proxy keeps: it declares only the narrow
 * part it uses (`BillingCustomers`, `BillingPlans`), which the proxy's stores satisfy, so billing never imports proxy.
 *
 * Conventions (as in the proxy's ports): money in integer micro-units, times in epoch ms, expected outcomes returned,
 * a rejected promise means storage itself failed. Rows are the schema's row types (`migrations/schema/billing.ts`).
 */

import type { Customer, CustomerStatus, Plan, PriceVersion, Result } from "../../../domain/records.ts";
import type {
  BillingInvoiceSyncRow,
  BillingSubscriptionRow,
  BillingUnpaidInvoiceRow,
  InvoiceSyncState,
  StripePriceRole,
} from "../../../migrations/schema/index.ts";
import type { BillableEvent } from "../aggregate.ts";

export type { InvoiceSyncState, StripePriceRole } from "../../../migrations/schema/index.ts";
export type InvoiceSync = BillingInvoiceSyncRow;
export type Subscription = BillingSubscriptionRow;
export type UnpaidInvoice = BillingUnpaidInvoiceRow;

// ─── customers and prices (kept by the proxy) ───────────────────────────────────────────────────────────────────────

export interface BillingCustomers {
  getCustomer(id: string): Promise<Customer | null>;
  /** Ordered by id; `afterId` pages. */
  list(options?: { status?: CustomerStatus; limit?: number; afterId?: string }): Promise<Customer[]>;
  /** Billing only ever records the customer's Stripe id. */
  update(id: string, patch: { stripeCustomerId?: string | null }): Promise<Result<Customer, string>>;
  /** Returns null for an unknown customer. */
  suspend(id: string, reason: string): Promise<Customer | null>;
  restore(id: string): Promise<Customer | null>;
}

export interface BillingPlans {
  getPlan(id: string): Promise<Plan | null>;
  listPlans(): Promise<Plan[]>;
  getVersion(id: string): Promise<PriceVersion | null>;
  /** Ascending by version. */
  listVersions(planId: string): Promise<PriceVersion[]>;
}

// ─── usage (read side of the proxy's ledger) ────────────────────────────────────────────────────────────────────────

export interface UsageSource {
  /**
   * A customer's events with `fromMs ≤ occurredAt < toMs`, in batches, ascending by occurredAt (then ledger order).
   * Every event is yielded exactly once.
   */
  scan(query: { customerId: string; fromMs: number; toMs: number; batchSize?: number }): AsyncIterable<BillableEvent[]>;
  /** Ids of the customers with at least one event in [fromMs, toMs), ascending. */
  customersWithUsage(query: { fromMs: number; toMs: number }): Promise<string[]>;
  /**
   * Optional bulk read for invoicing many customers at once: every event (all customers) with
   * `fromMs ≤ occurredAt < toMs`, each exactly once, in any order (ledger order where that is cheapest: one
   * sequential pass instead of a seek per customer). Billing falls back to `scan` per customer without it.
   */
  scanPeriod?(query: { fromMs: number; toMs: number; batchSize?: number }): AsyncIterable<BillableEvent[]>;
}

// ─── invoice sync state ─────────────────────────────────────────────────────────────────────────────────────────────

export type NewInvoiceSync = Omit<
  InvoiceSync,
  | "createdAt"
  | "updatedAt"
  | "stripeCustomerId"
  | "stripeInvoiceId"
  | "stripeInvoiceStatus"
  | "stripeInvoiceNumber"
  | "stripeTotalMinor"
> &
  Partial<Pick<InvoiceSync, "stripeCustomerId">>;

export type InvoiceSyncPatch = Partial<
  Pick<
    InvoiceSync,
    | "stripeCustomerId"
    | "stripeInvoiceId"
    | "stripeInvoiceStatus"
    | "stripeInvoiceNumber"
    | "stripeTotalMinor"
    | "error"
  >
>;

export interface InvoiceSyncStore {
  get(customerId: string, period: string): Promise<InvoiceSync | null>;
  /**
   * Stores the plan of a customer's period unless one is stored already, and returns the stored row: the first plan
   * wins, so two runs racing (or a re-run after a crash) use the same frozen plan. Invalid amounts (not integers,
   * billed + carry-out ≠ ledger + carry-in) reject.
   */
  create(sync: NewInvoiceSync): Promise<InvoiceSync>;
  /**
   * Compare-and-set: moves the row to `to` (with `patch`) only if it is in one of `from`. Returns the updated row, or
   * null if the row is missing or in another state (someone else moved it: re-read and continue from there).
   */
  transition(
    customerId: string,
    period: string,
    from: readonly InvoiceSyncState[],
    to: InvoiceSyncState,
    patch?: InvoiceSyncPatch,
  ): Promise<InvoiceSync | null>;
  /** Updates Stripe fields without a state change (webhooks: the invoice was paid). Null if unknown. */
  patch(customerId: string, period: string, patch: InvoiceSyncPatch): Promise<InvoiceSync | null>;
  /** Records the Stripe invoice item of a planned line. The first id recorded for a line is kept and returned. */
  setLineItem(customerId: string, period: string, lineKey: string, stripeInvoiceItemId: string): Promise<string>;
  /** line key → Stripe invoice item id, for the lines created so far. */
  lineItems(customerId: string, period: string): Promise<Record<string, string>>;
  /** The customer's latest sync of a period before `period` ("YYYY-MM" compares as text), or null. */
  latestBefore(customerId: string, period: string): Promise<InvoiceSync | null>;
  /** Whether the customer has a sync of a period after `period` (periods are planned in order). */
  hasAfter(customerId: string, period: string): Promise<boolean>;
  /** Every sync of a period, ascending by customer id. */
  listPeriod(period: string): Promise<InvoiceSync[]>;
  findByStripeInvoice(stripeInvoiceId: string): Promise<InvoiceSync | null>;
}

// ─── Stripe catalogue and subscriptions ─────────────────────────────────────────────────────────────────────────────

export interface StripePriceRef {
  role: StripePriceRole;
  stripePriceId: string;
  stripeProductId: string;
}

export interface NewSubscription {
  customerId: string;
  stripeSubscriptionId: string;
  stripePriceId: string;
  priceVersionId: string;
  status: string;
}

export interface StripeCatalogStore {
  getProduct(planId: string): Promise<string | null>;
  /** First writer wins; returns the stored product id. */
  setProduct(planId: string, stripeProductId: string): Promise<string>;
  /** The mirrored prices of a version, in role order. */
  getPrices(priceVersionId: string): Promise<StripePriceRef[]>;
  /** First writer wins per (version, role); returns the stored reference. */
  setPrice(priceVersionId: string, price: StripePriceRef): Promise<StripePriceRef>;
  getSubscription(customerId: string): Promise<Subscription | null>;
  findSubscription(stripeSubscriptionId: string): Promise<Subscription | null>;
  /** Creates or replaces the customer's subscription row. */
  putSubscription(sub: NewSubscription): Promise<Subscription>;
  setSubscriptionStatus(stripeSubscriptionId: string, status: string): Promise<Subscription | null>;
}

// ─── webhook events ─────────────────────────────────────────────────────────────────────────────────────────────────

export type WebhookClaim =
  /** Process it now. */
  | { state: "new"; attempt: number }
  /** Already processed: acknowledge without processing again. */
  | { state: "done"; outcome: string | null }
  /** Another delivery of the same event is being processed right now: answer so Stripe retries later. */
  | { state: "in_progress" };

export interface WebhookEventStore {
  /**
   * Claims an event id for processing. An attempt still `processing` after `staleAfterMs` belongs to a process that
   * died and is taken over (`new`, attempt + 1).
   */
  claim(eventId: string, type: string, staleAfterMs: number): Promise<WebhookClaim>;
  complete(eventId: string, outcome: string): Promise<void>;
  /** Forgets a failed attempt so Stripe's retry processes the event again. */
  release(eventId: string): Promise<void>;
  get(eventId: string): Promise<{ eventId: string; type: string; state: string; outcome: string | null } | null>;
}

// ─── unpaid invoices (dunning) ──────────────────────────────────────────────────────────────────────────────────────

export interface DunningStore {
  /** Records a failed payment attempt of an invoice (first failure time kept). Ignored if the invoice is paid. */
  recordFailure(stripeInvoiceId: string, customerId: string): Promise<UnpaidInvoice>;
  /** Marks the invoice paid; null if it never failed. */
  recordPaid(stripeInvoiceId: string): Promise<UnpaidInvoice | null>;
  /** The customer's invoices that failed and are not paid. */
  unpaidFor(customerId: string): Promise<UnpaidInvoice[]>;
  /** Unpaid, not yet suspended invoices whose first failure is at or before `failedAtOrBefore`. */
  overdue(failedAtOrBefore: number): Promise<UnpaidInvoice[]>;
  markSuspended(stripeInvoiceId: string): Promise<void>;
}

/** Every billing store of one backing database. */
export interface BillingStores {
  usage: UsageSource;
  syncs: InvoiceSyncStore;
  catalog: StripeCatalogStore;
  webhooks: WebhookEventStore;
  dunning: DunningStore;
}
