import Stripe from "stripe";
import type { StripeGateway, StripeInvoice, StripeInvoiceItem, StripeSubscription } from "./port.ts";

export interface StripeConnection {
  secretKey: string;
  /** Defaults to api.stripe.com over https; set all three for the local test server. */
  host?: string;
  port?: number;
  protocol?: "http" | "https";
  /** Node's default client, or `Stripe.createFetchHttpClient()` on Workers. */
  httpClient?: Stripe.HttpClient;
  maxNetworkRetries?: number;
  timeoutMs?: number;
}

/** An SDK client for a connection: the one place a `Stripe` is constructed. */
export function createStripeClient(c: StripeConnection): Stripe {
  return new Stripe(c.secretKey, {
    ...(c.host ? { host: c.host } : {}),
    ...(c.port ? { port: c.port } : {}),
    ...(c.protocol ? { protocol: c.protocol } : {}),
    ...(c.httpClient ? { httpClient: c.httpClient } : {}),
    maxNetworkRetries: c.maxNetworkRetries ?? 2,
    timeout: c.timeoutMs ?? 30_000,
    telemetry: false,
  });
}

const id = (v: string | { id: string } | null | undefined): string | null =>
  v == null ? null : typeof v === "string" ? v : v.id;

function invoiceView(i: Stripe.Invoice): StripeInvoice {
  const subscription = i.parent?.subscription_details?.subscription ?? null;
  return {
    id: i.id as string,
    customer: id(i.customer as string | { id: string }) ?? "",
    status: i.status ?? "draft",
    currency: i.currency,
    total: i.total,
    amountDue: i.amount_due,
    number: i.number ?? null,
    metadata: (i.metadata ?? {}) as Record<string, string>,
    lines: i.lines.data.map((l) => ({
      id: l.id,
      amount: l.amount,
      description: l.description ?? null,
      metadata: (l.metadata ?? {}) as Record<string, string>,
      invoiceItemId: id(l.parent?.invoice_item_details?.invoice_item ?? null),
    })),
    linesComplete: !i.lines.has_more,
    subscriptionId: id(subscription as string | { id: string } | null),
    hostedUrl: i.hosted_invoice_url ?? null,
  };
}

const itemView = (i: Stripe.InvoiceItem): StripeInvoiceItem => ({
  id: i.id,
  amount: i.amount,
  currency: i.currency,
  invoice: id(i.invoice as string | { id: string } | null),
  metadata: (i.metadata ?? {}) as Record<string, string>,
});

const subscriptionView = (s: Stripe.Subscription): StripeSubscription => ({
  id: s.id,
  customer: id(s.customer as string | { id: string }) ?? "",
  status: s.status,
  itemId: s.items.data[0]?.id ?? null,
  priceId: s.items.data[0]?.price.id ?? null,
});

/** `StripeGateway` over the official SDK. */
export class SdkStripeGateway implements StripeGateway {
  constructor(private readonly stripe: Stripe) {}

  async findCustomer(customerId: string): Promise<string | null> {
    const found = await this.stripe.customers.search({ query: `metadata['customer_id']:'${customerId}'`, limit: 1 });
    return found.data[0]?.id ?? null;
  }

  async createCustomer(input: { customerId: string; name: string; email: string }, key: string): Promise<string> {
    const c = await this.stripe.customers.create(
      { name: input.name, email: input.email, metadata: { customer_id: input.customerId } },
      { idempotencyKey: key },
    );
    return c.id;
  }

  async createProduct(input: { planId: string; name: string }, key: string): Promise<string> {
    const p = await this.stripe.products.create(
      { name: input.name, metadata: { plan_id: input.planId } },
      { idempotencyKey: key },
    );
    return p.id;
  }

  async createPrice(input: Parameters<StripeGateway["createPrice"]>[0], key: string): Promise<string> {
    const p = await this.stripe.prices.create(
      {
        product: input.productId,
        currency: input.currency.toLowerCase(),
        unit_amount_decimal: Stripe.Decimal.from(input.unitAmountDecimal),
        nickname: input.nickname,
        metadata: input.metadata,
        ...(input.recurringMonthly ? { recurring: { interval: "month" } } : {}),
      },
      { idempotencyKey: key },
    );
    return p.id;
  }

  async findInvoice(stripeCustomerId: string, billingKey: string): Promise<StripeInvoice | null> {
    for await (const i of this.stripe.invoices.list({ customer: stripeCustomerId, limit: 100 })) {
      if (i.metadata?.billing_key === billingKey) return invoiceView(i);
    }
    return null;
  }

  async createInvoice(input: Parameters<StripeGateway["createInvoice"]>[0], key: string): Promise<StripeInvoice> {
    const i = await this.stripe.invoices.create(
      {
        customer: input.stripeCustomerId,
        currency: input.currency.toLowerCase(),
        description: input.description,
        metadata: input.metadata,
        auto_advance: false,
        collection_method: input.collectionMethod,
        ...(input.collectionMethod === "send_invoice" ? { days_until_due: input.daysUntilDue } : {}),
        // Items are attached explicitly (invoice: in_…); never sweep other pending items into a usage invoice.
        pending_invoice_items_behavior: "exclude",
      },
      { idempotencyKey: key },
    );
    return invoiceView(i);
  }

  async getInvoice(invoiceId: string): Promise<StripeInvoice> {
    return invoiceView(await this.stripe.invoices.retrieve(invoiceId));
  }

  async listInvoiceItems(invoiceId: string): Promise<StripeInvoiceItem[]> {
    const items: StripeInvoiceItem[] = [];
    for await (const i of this.stripe.invoiceItems.list({ invoice: invoiceId, limit: 100 })) items.push(itemView(i));
    return items;
  }

  async createInvoiceItem(
    input: Parameters<StripeGateway["createInvoiceItem"]>[0],
    key: string,
  ): Promise<StripeInvoiceItem> {
    const i = await this.stripe.invoiceItems.create(
      {
        customer: input.stripeCustomerId,
        invoice: input.invoiceId,
        amount: input.amountMinor,
        currency: input.currency.toLowerCase(),
        description: input.description,
        metadata: input.metadata,
        period: { start: input.period.startSeconds, end: input.period.endSeconds },
      },
      { idempotencyKey: key },
    );
    return itemView(i);
  }

  async finalizeInvoice(invoiceId: string, key: string): Promise<StripeInvoice> {
    return invoiceView(
      await this.stripe.invoices.finalizeInvoice(invoiceId, { auto_advance: true }, { idempotencyKey: key }),
    );
  }

  async findSubscription(stripeCustomerId: string, customerId: string): Promise<StripeSubscription | null> {
    for await (const s of this.stripe.subscriptions.list({ customer: stripeCustomerId, limit: 100 })) {
      if (s.metadata?.customer_id === customerId && s.status !== "canceled") return subscriptionView(s);
    }
    return null;
  }

  async createSubscription(
    input: Parameters<StripeGateway["createSubscription"]>[0],
    key: string,
  ): Promise<StripeSubscription> {
    const s = await this.stripe.subscriptions.create(
      {
        customer: input.stripeCustomerId,
        items: [{ price: input.priceId }],
        metadata: input.metadata,
        collection_method: input.collectionMethod,
        ...(input.collectionMethod === "send_invoice" ? { days_until_due: input.daysUntilDue } : {}),
        payment_behavior: "allow_incomplete",
      },
      { idempotencyKey: key },
    );
    return subscriptionView(s);
  }

  async updateSubscriptionPrice(
    subscriptionId: string,
    itemId: string,
    priceId: string,
    key: string,
  ): Promise<StripeSubscription> {
    const s = await this.stripe.subscriptions.update(
      subscriptionId,
      { items: [{ id: itemId, price: priceId }], proration_behavior: "none" },
      { idempotencyKey: key },
    );
    return subscriptionView(s);
  }

  async createPortalSession(input: { stripeCustomerId: string; returnUrl: string | null }) {
    const s = await this.stripe.billingPortal.sessions.create({
      customer: input.stripeCustomerId,
      ...(input.returnUrl ? { return_url: input.returnUrl } : {}),
    });
    return { id: s.id, url: s.url };
  }
}
