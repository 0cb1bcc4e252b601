/**
 * Deterministic Stripe idempotency keys: each names what the call is for (customer, period, line …), never a random
 * value, so the same step repeated after a crash — in this process or another, minutes later — is the same Stripe
 * request and Stripe answers with the stored result instead of creating a second object. Stripe keeps keys ≥ 24 h;
 * beyond that the reconciler finds its objects by metadata before creating anything (see reconciler.ts).
 * Keys are ≤ 255 characters (ids here are short).
 */
export function idempotencyKeys(prefix = "billing:v1") {
  return {
    customer: (customerId: string) => `${prefix}:customer:${customerId}`,
    product: (planId: string) => `${prefix}:product:${planId}`,
    price: (priceVersionId: string, role: string) => `${prefix}:price:${priceVersionId}:${role}`,
    invoice: (customerId: string, period: string) => `${prefix}:invoice:${customerId}:${period}`,
    item: (customerId: string, period: string, lineKey: string) => `${prefix}:item:${customerId}:${period}:${lineKey}`,
    finalize: (customerId: string, period: string) => `${prefix}:finalize:${customerId}:${period}`,
    subscription: (customerId: string) => `${prefix}:subscription:${customerId}`,
    subscriptionPrice: (subscriptionId: string, priceVersionId: string) =>
      `${prefix}:subscription-price:${subscriptionId}:${priceVersionId}`,
  };
}

export type IdempotencyKeys = ReturnType<typeof idempotencyKeys>;

/** The `billing_key` metadata of a customer's period invoice and its items. */
export const billingKey = (customerId: string, period: string) => `${customerId}:${period}`;
