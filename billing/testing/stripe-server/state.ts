/**
 * The objects of the local Stripe-compatible test server, with Stripe's shapes (the fields billing reads, and the
 * usual companions) and ids. Pure data and bookkeeping: endpoints live in `./resources/` (routed by `./resources.ts`).
 */
export type Json = Record<string, unknown>;
export type Metadata = Record<string, string>;

export interface Customer extends Json {
  id: string;
  object: "customer";
  created: number;
  email: string | null;
  name: string | null;
  description: string | null;
  currency: string | null;
  metadata: Metadata;
  livemode: false;
}

export interface Product extends Json {
  id: string;
  object: "product";
  active: boolean;
  created: number;
  name: string;
  metadata: Metadata;
}

export interface Price extends Json {
  id: string;
  object: "price";
  active: boolean;
  created: number;
  currency: string;
  product: string;
  nickname: string | null;
  lookup_key: string | null;
  metadata: Metadata;
  recurring: { interval: string; interval_count: number; usage_type: "licensed" } | null;
  type: "one_time" | "recurring";
  unit_amount: number | null;
  unit_amount_decimal: string | null;
  billing_scheme: "per_unit";
  tax_behavior: string;
}

export interface InvoiceItem extends Json {
  id: string;
  object: "invoiceitem";
  amount: number;
  currency: string;
  customer: string;
  date: number;
  description: string | null;
  invoice: string | null;
  metadata: Metadata;
  period: { start: number; end: number };
  pricing: {
    type: "price_details";
    price_details: { price: string; product: string };
    unit_amount_decimal: string;
  } | null;
  quantity: number;
  proration: false;
  parent: { type: "subscription_details"; subscription_details: { subscription: string } } | null;
  livemode: false;
}

export type InvoiceStatus = "draft" | "open" | "paid" | "void" | "uncollectible";

export interface Invoice extends Json {
  id: string;
  object: "invoice";
  customer: string;
  status: InvoiceStatus;
  currency: string;
  created: number;
  number: string | null;
  auto_advance: boolean;
  collection_method: "charge_automatically" | "send_invoice";
  billing_reason: "manual" | "subscription_create" | "subscription_cycle";
  description: string | null;
  metadata: Metadata;
  subtotal: number;
  total: number;
  amount_due: number;
  amount_paid: number;
  amount_remaining: number;
  attempt_count: number;
  attempted: boolean;
  due_date: number | null;
  period_start: number;
  period_end: number;
  parent: { type: "subscription_details"; subscription_details: { subscription: string; metadata: Metadata } } | null;
  status_transitions: {
    finalized_at: number | null;
    paid_at: number | null;
    voided_at: number | null;
    marked_uncollectible_at: number | null;
  };
  hosted_invoice_url: string | null;
  livemode: false;
}

export interface Subscription extends Json {
  id: string;
  object: "subscription";
  customer: string;
  status: "incomplete" | "active" | "past_due" | "canceled";
  created: number;
  start_date: number;
  billing_cycle_anchor: number;
  collection_method: "charge_automatically" | "send_invoice";
  days_until_due: number | null;
  cancel_at_period_end: false;
  canceled_at: number | null;
  ended_at: number | null;
  latest_invoice: string | null;
  metadata: Metadata;
  items: { object: "list"; data: SubscriptionItem[]; has_more: false; url: string };
  livemode: false;
}

export interface SubscriptionItem extends Json {
  id: string;
  object: "subscription_item";
  price: Price;
  quantity: number;
  subscription: string;
  current_period_start: number;
  current_period_end: number;
  created: number;
}

export interface StripeEvent extends Json {
  id: string;
  object: "event";
  api_version: string;
  created: number;
  type: string;
  data: { object: Json };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
}

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Stripe-looking ids: a prefix and 24 base62 characters (`cus_Q2f…`). */
export function newId(prefix: string, length = 24): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let out = `${prefix}_`;
  for (const b of bytes) out += ALPHABET[b % 62];
  return out;
}

/** Every object of one account, in creation order (lists are newest first, as in Stripe). */
export class StripeState {
  readonly customers = new Map<string, Customer>();
  readonly products = new Map<string, Product>();
  readonly prices = new Map<string, Price>();
  readonly invoiceItems = new Map<string, InvoiceItem>();
  readonly invoices = new Map<string, Invoice>();
  readonly subscriptions = new Map<string, Subscription>();
  readonly portalSessions = new Map<string, Json>();
  readonly events: StripeEvent[] = [];
  /** How the next payment attempt of a customer's invoice goes (set by tests). */
  readonly paymentOutcome = new Map<string, "succeed" | "fail">();
  #invoiceNumber = 0;

  constructor(
    readonly now: () => number,
    readonly apiVersion: string,
    readonly baseUrl: () => string,
    private readonly onEvent: (event: StripeEvent) => void,
  ) {}

  /** Unix seconds, as in every Stripe timestamp. */
  seconds(): number {
    return Math.floor(this.now() / 1000);
  }

  nextInvoiceNumber(): string {
    this.#invoiceNumber++;
    return `TEST-${String(this.#invoiceNumber).padStart(4, "0")}`;
  }

  /** Records an event with a snapshot of the object, as Stripe does, and hands it to webhook delivery. */
  emit(type: string, object: Json, request: { id: string | null; idempotencyKey: string | null }): StripeEvent {
    const event: StripeEvent = {
      id: newId("evt"),
      object: "event",
      api_version: this.apiVersion,
      created: this.seconds(),
      type,
      data: { object: structuredClone(object) },
      livemode: false,
      pending_webhooks: 1,
      request: { id: request.id, idempotency_key: request.idempotencyKey },
    };
    this.events.push(event);
    this.onEvent(event);
    return event;
  }

  /** Items attached to an invoice, oldest first (the order lines appear on the invoice). */
  itemsOf(invoiceId: string): InvoiceItem[] {
    return [...this.invoiceItems.values()].filter((i) => i.invoice === invoiceId);
  }

  /** Recomputes an invoice's amounts from its items (no tax, no discounts, no customer balance). */
  recompute(invoice: Invoice): void {
    const subtotal = this.itemsOf(invoice.id).reduce((sum, i) => sum + i.amount, 0);
    invoice.subtotal = subtotal;
    invoice.total = subtotal;
    invoice.amount_due = Math.max(0, subtotal);
    invoice.amount_remaining = invoice.status === "paid" ? 0 : invoice.amount_due - invoice.amount_paid;
  }

  /** The invoice as the API returns it, with its lines. */
  renderInvoice(invoice: Invoice): Json {
    const data = this.itemsOf(invoice.id).map((item) => ({
      id: `il_${item.id.slice(3)}`,
      object: "line_item",
      amount: item.amount,
      currency: item.currency,
      description: item.description,
      invoice: invoice.id,
      metadata: item.metadata,
      period: item.period,
      pricing: item.pricing,
      quantity: item.quantity,
      parent:
        item.parent?.type === "subscription_details"
          ? {
              type: "subscription_item_details",
              subscription_item_details: { subscription: item.parent.subscription_details.subscription },
            }
          : { type: "invoice_item_details", invoice_item_details: { invoice_item: item.id, proration: false } },
      livemode: false,
    }));
    return {
      ...invoice,
      lines: {
        object: "list",
        data,
        has_more: false,
        total_count: data.length,
        url: `/v1/invoices/${invoice.id}/lines`,
      },
    };
  }
}

/** A Stripe list page: newest first, `limit` (1–100, default 10), `starting_after` / `ending_before` cursors. */
export function page<T extends { id: string }>(
  all: readonly T[],
  options: { limit?: number; startingAfter?: string; endingBefore?: string; url: string },
): { object: "list"; data: T[]; has_more: boolean; url: string } {
  const newestFirst = [...all].reverse();
  const limit = options.limit ?? 10;
  let start = 0;
  let end = newestFirst.length;
  if (options.startingAfter) start = newestFirst.findIndex((o) => o.id === options.startingAfter) + 1;
  if (options.endingBefore)
    end = Math.max(
      0,
      newestFirst.findIndex((o) => o.id === options.endingBefore),
    );
  const window = options.endingBefore
    ? newestFirst.slice(Math.max(start, end - limit), end)
    : newestFirst.slice(start, start + limit);
  const hasMore = options.endingBefore ? end - limit > start : start + limit < end;
  return { object: "list", data: window, has_more: hasMore, url: options.url };
}
