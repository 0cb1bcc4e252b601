/**
 * What billing needs from Stripe, in its own words. `SdkStripeGateway` implements it with the official SDK (against
 * api.stripe.com, or the local test server by host/port/protocol). Amounts are Stripe minor units here; every
 * mutating call takes the caller's idempotency key, derived from what the call is for (never random), so a call
 * repeated after a crash is the same Stripe request.
 */

export interface StripeInvoiceLine {
  id: string;
  amount: number;
  description: string | null;
  metadata: Record<string, string>;
  /** The invoice item behind the line (`ii_…`), when it is one. */
  invoiceItemId: string | null;
}

export interface StripeInvoice {
  id: string;
  customer: string;
  status: string;
  currency: string;
  total: number;
  amountDue: number;
  number: string | null;
  metadata: Record<string, string>;
  lines: StripeInvoiceLine[];
  /** Lines beyond the first page are not returned inline; `listInvoiceItems` has them all. */
  linesComplete: boolean;
  subscriptionId: string | null;
  hostedUrl: string | null;
}

export interface StripeInvoiceItem {
  id: string;
  amount: number;
  currency: string;
  invoice: string | null;
  metadata: Record<string, string>;
}

export interface StripeSubscription {
  id: string;
  customer: string;
  status: string;
  itemId: string | null;
  priceId: string | null;
}

export interface StripeGateway {
  /** The Stripe customer whose metadata names our customer id, if one exists. */
  findCustomer(customerId: string): Promise<string | null>;
  createCustomer(input: { customerId: string; name: string; email: string }, idempotencyKey: string): Promise<string>;
  createProduct(input: { planId: string; name: string }, idempotencyKey: string): Promise<string>;
  createPrice(
    input: {
      productId: string;
      currency: string;
      /** Exact decimal string of minor units (at most 12 decimals). */
      unitAmountDecimal: string;
      recurringMonthly: boolean;
      nickname: string;
      metadata: Record<string, string>;
    },
    idempotencyKey: string,
  ): Promise<string>;
  /** The customer's invoice whose metadata `billing_key` is `billingKey`, any status. */
  findInvoice(stripeCustomerId: string, billingKey: string): Promise<StripeInvoice | null>;
  createInvoice(
    input: {
      stripeCustomerId: string;
      currency: string;
      description: string;
      metadata: Record<string, string>;
      collectionMethod: "charge_automatically" | "send_invoice";
      daysUntilDue: number;
    },
    idempotencyKey: string,
  ): Promise<StripeInvoice>;
  getInvoice(invoiceId: string): Promise<StripeInvoice>;
  /** Every invoice item attached to the invoice. */
  listInvoiceItems(invoiceId: string): Promise<StripeInvoiceItem[]>;
  createInvoiceItem(
    input: {
      stripeCustomerId: string;
      invoiceId: string;
      amountMinor: number;
      currency: string;
      description: string;
      metadata: Record<string, string>;
      period: { startSeconds: number; endSeconds: number };
    },
    idempotencyKey: string,
  ): Promise<StripeInvoiceItem>;
  /** Finalises a draft and lets Stripe collect it (auto-advance on). */
  finalizeInvoice(invoiceId: string, idempotencyKey: string): Promise<StripeInvoice>;
  findSubscription(stripeCustomerId: string, customerId: string): Promise<StripeSubscription | null>;
  createSubscription(
    input: {
      stripeCustomerId: string;
      priceId: string;
      metadata: Record<string, string>;
      collectionMethod: "charge_automatically" | "send_invoice";
      daysUntilDue: number;
    },
    idempotencyKey: string,
  ): Promise<StripeSubscription>;
  /** Moves the subscription's item to another price (a new price version of the fee), without proration. */
  updateSubscriptionPrice(
    subscriptionId: string,
    itemId: string,
    priceId: string,
    idempotencyKey: string,
  ): Promise<StripeSubscription>;
  createPortalSession(input: {
    stripeCustomerId: string;
    returnUrl: string | null;
  }): Promise<{ id: string; url: string }>;
}
