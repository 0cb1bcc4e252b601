import Stripe from "stripe";
import { z } from "zod";
import type { Clock, Customer } from "../../../domain/records.ts";
import { BillingError } from "../errors.ts";
import type { BillingCustomers, BillingStores } from "../store/ports.ts";
import { canceledReason, Dunning } from "./dunning.ts";

/** Stripe's default, and the issue's: a signature older than 5 minutes is refused (replay protection). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;
/** A delivery still being processed after this is taken over by the next one (its process died). */
const STALE_CLAIM_MS = 5 * 60_000;

export interface WebhookDeps {
  secret: string;
  billing: BillingStores;
  customers: Pick<BillingCustomers, "getCustomer" | "list" | "suspend" | "restore">;
  clock: Clock;
  gracePeriodMs: number;
  toleranceSeconds?: number;
  log?: (line: Record<string, unknown>) => void;
}

export interface WebhookOutcome {
  /** 2xx: acknowledged (processed now, or before, or nothing to do); 409: a parallel delivery is processing it. */
  status: 200 | 409;
  body: { received: true; event_id: string; type: string; duplicate?: true; outcome?: string } | { error: string };
}

/** What every event must carry before it is claimed: a non-empty id and type, and an object under `data`. */
const eventSchema = z.object({
  id: z.string().min(1).max(255),
  type: z.string().min(1).max(255),
  data: z.object({ object: z.looseObject({}) }),
});
const invoiceSchema = z.looseObject({
  id: z.string().min(1),
  customer: z.union([z.string(), z.looseObject({ id: z.string() }), z.null()]),
});
const subscriptionSchema = z.looseObject({ id: z.string().min(1) });

/** The signed body as an event, or a 400 with a stable code (INVALID_JSON, WEBHOOK_EVENT_INVALID). */
function parseEvent(rawBody: Uint8Array | string): Stripe.Event {
  let json: unknown;
  try {
    json = JSON.parse(typeof rawBody === "string" ? rawBody : new TextDecoder().decode(rawBody));
  } catch {
    throw new BillingError("INVALID_JSON", "the signed webhook body is not valid JSON");
  }
  const parsed = eventSchema.safeParse(json);
  if (!parsed.success) {
    throw new BillingError("WEBHOOK_EVENT_INVALID", `not a Stripe event: ${z.prettifyError(parsed.error)}`);
  }
  return json as Stripe.Event;
}

/** An event's object in the shape its type needs, or a 400 WEBHOOK_EVENT_INVALID (never a TypeError, a 500). */
function objectOf<T>(event: Stripe.Event, schema: z.ZodType<T>): T {
  const parsed = schema.safeParse(event.data.object);
  if (!parsed.success) {
    throw new BillingError("WEBHOOK_EVENT_INVALID", `${event.type}: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

type InvoiceLike = { id: string; customer: string | { id: string } | null; metadata?: Record<string, string> | null };
type SubscriptionLike = { id: string; customer: string | { id: string }; metadata?: Record<string, string> | null };

const idOf = (v: string | { id: string } | null | undefined) => (v == null ? null : typeof v === "string" ? v : v.id);

/**
 * The runtime-neutral core of `POST /stripe/webhook`: verifies `Stripe-Signature` over the raw body with
 * `constructEventAsync` and Web Crypto (`createSubtleCryptoProvider`: Node and Workers alike), dedupes by event id,
 * and applies `invoice.paid`, `invoice.payment_failed` and `customer.subscription.deleted`.
 *
 * Stripe delivers at least once and out of order, so: an event id already processed is acknowledged without being
 * processed again; a valid event about an object we do not know is acknowledged and logged (retrying would not
 * help); a processing failure releases the claim and rejects, so Stripe's retry runs it again.
 */
export class WebhookHandler {
  readonly #crypto = Stripe.createSubtleCryptoProvider();
  readonly #dunning: Dunning;

  constructor(private readonly d: WebhookDeps) {
    this.#dunning = new Dunning({
      dunning: d.billing.dunning,
      customers: d.customers,
      clock: d.clock,
      gracePeriodMs: d.gracePeriodMs,
      ...(d.log ? { log: d.log } : {}),
    });
  }

  get dunning(): Dunning {
    return this.#dunning;
  }

  async handle(rawBody: Uint8Array | string, signature: string | null): Promise<WebhookOutcome> {
    await this.#verify(rawBody, signature);
    // From here on the body is Stripe's (validly signed): whatever it holds gets a 2xx or a 4xx with a stable code,
    // never a 5xx that Stripe would retry forever (issue 14 #3), and it is not reported as a signature failure.
    const event = parseEvent(rawBody);
    const base = { received: true as const, event_id: event.id, type: event.type };
    const claim = await this.d.billing.webhooks.claim(event.id, event.type, STALE_CLAIM_MS);
    if (claim.state === "done") {
      return { status: 200, body: { ...base, duplicate: true, ...(claim.outcome ? { outcome: claim.outcome } : {}) } };
    }
    if (claim.state === "in_progress") return { status: 409, body: { error: "this event is being processed" } };
    try {
      const outcome = await this.#apply(event);
      await this.d.billing.webhooks.complete(event.id, outcome);
      this.d.log?.({ level: "info", msg: "stripe webhook processed", event_id: event.id, type: event.type, outcome });
      return { status: 200, body: { ...base, outcome } };
    } catch (e) {
      await this.d.billing.webhooks.release(event.id);
      throw e;
    }
  }

  /**
   * `Stripe-Signature` over the raw bytes (no JSON parsing here: a signed but malformed body is not a signature
   * failure). Stripe's check bounds only the age of `t=`; a timestamp further in the future than the tolerance is
   * refused too, or a leaked signing of a future time would be replayable for as long as it stays in the future.
   */
  async #verify(rawBody: Uint8Array | string, signature: string | null): Promise<void> {
    const tolerance = this.d.toleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS;
    const now = this.d.clock.now();
    try {
      if (!signature) throw new Error("no Stripe-Signature header");
      const verifier = Stripe.webhooks.signature;
      if (!verifier) throw new Error("the Stripe SDK has no signature verifier");
      await verifier.verifyHeaderAsync(rawBody, signature, this.d.secret, tolerance, this.#crypto, now);
      const t = Number(/(?:^|,)\s*t=(\d+)/.exec(signature)?.[1]);
      if (tolerance > 0 && t - Math.floor(now / 1000) > tolerance) {
        throw new Error(`timestamp ${t} is more than ${tolerance} s in the future`);
      }
    } catch (e) {
      const reason = (e instanceof Error ? (e.message.split("\n")[0] ?? "") : String(e)).trim();
      this.d.log?.({ level: "warn", msg: "stripe webhook rejected: bad signature", reason });
      throw new BillingError("STRIPE_SIGNATURE_INVALID", `Stripe-Signature verification failed: ${reason}`);
    }
  }

  async #apply(event: Stripe.Event): Promise<string> {
    switch (event.type) {
      case "invoice.paid":
      case "invoice.payment_failed": {
        const invoice = objectOf(event, invoiceSchema) as InvoiceLike;
        const customer = await this.#customerOfInvoice(invoice);
        if (!customer)
          return this.#unknown(event, `invoice ${invoice.id} of Stripe customer ${idOf(invoice.customer)}`);
        const sync = await this.d.billing.syncs.findByStripeInvoice(invoice.id);
        if (event.type === "invoice.paid") {
          if (sync) await this.d.billing.syncs.patch(sync.customerId, sync.period, { stripeInvoiceStatus: "paid" });
          return this.#dunning.paid(invoice.id, customer.id);
        }
        return this.#dunning.paymentFailed(invoice.id, customer.id);
      }
      case "customer.subscription.deleted": {
        const sub = objectOf(event, subscriptionSchema) as SubscriptionLike;
        const row = await this.d.billing.catalog.setSubscriptionStatus(sub.id, "canceled");
        if (!row) return this.#unknown(event, `subscription ${sub.id}`);
        const customer = await this.d.customers.getCustomer(row.customerId);
        if (customer?.status === "active") await this.d.customers.suspend(row.customerId, canceledReason(sub.id));
        return `subscription ${sub.id} of ${row.customerId} canceled; customer suspended`;
      }
      default:
        return `ignored ${event.type}`;
    }
  }

  #unknown(event: Stripe.Event, what: string): string {
    this.d.log?.({
      level: "warn",
      msg: "stripe webhook about an unknown object",
      event_id: event.id,
      type: event.type,
      what,
    });
    return `unknown object: ${what}`;
  }

  /** Our customer of an invoice: its metadata (our invoices, subscription invoices), our sync rows, the Stripe id. */
  async #customerOfInvoice(invoice: InvoiceLike): Promise<Customer | null> {
    const stripeCustomerId = idOf(invoice.customer);
    if (!stripeCustomerId) return null;
    const matches = (c: Customer | null) => (c && c.stripeCustomerId === stripeCustomerId ? c : null);
    const fromMetadata = invoice.metadata?.customer_id;
    if (fromMetadata) {
      const c = matches(await this.d.customers.getCustomer(fromMetadata));
      if (c) return c;
    }
    const sync = await this.d.billing.syncs.findByStripeInvoice(invoice.id);
    if (sync) {
      const c = matches(await this.d.customers.getCustomer(sync.customerId));
      if (c) return c;
    }
    let afterId: string | undefined;
    for (;;) {
      const page = await this.d.customers.list({ limit: 500, ...(afterId ? { afterId } : {}) });
      const found = page.find((c) => c.stripeCustomerId === stripeCustomerId);
      if (found) return found;
      if (page.length < 500) return null;
      afterId = page[page.length - 1]?.id;
    }
  }
}
