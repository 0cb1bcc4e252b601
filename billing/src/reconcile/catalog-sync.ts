import { currencyRules } from "../../../domain/money.ts";
import type { Clock, Customer, Plan, PriceVersion } from "../../../domain/records.ts";
import type { PriceBook } from "../price-book.ts";
import type {
  BillingCustomers,
  StripeCatalogStore,
  StripePriceRef,
  StripePriceRole,
  Subscription,
} from "../store/ports.ts";
import type { StripeGateway } from "../stripe/port.ts";
import type { IdempotencyKeys } from "./keys.ts";

/** The Stripe prices each plan kind's versions are mirrored to. */
export const PRICE_ROLES: Record<Plan["kind"], StripePriceRole[]> = {
  basic: ["offpeak", "peak"],
  batch: ["batch"],
  enterprise: ["fee", "overage"],
};

/** An exact decimal string of `numerator / denominator` where the denominator is a power of ten. */
function decimal(numerator: bigint, denominatorPow10: number): string {
  const den = 10n ** BigInt(denominatorPow10);
  const whole = numerator / den;
  const frac = (numerator % den).toString().padStart(denominatorPow10, "0").replace(/0+$/, "");
  return frac ? `${whole}.${frac}` : `${whole}`;
}

/**
 * A role's price in Stripe minor units, exactly (Stripe takes ≤ 12 decimals; micros × basis points need ≤ 10).
 * Usage prices are per 1,000 tokens; the fee is per month.
 */
export function roleUnitAmount(version: PriceVersion, role: StripePriceRole, currency: string): string {
  const pow = Math.round(Math.log10(currencyRules(currency).microsPerMinor)) + 4; // micros·bp → minor units
  const micros = (m: number, bp = 10_000) => decimal(BigInt(m) * BigInt(bp), pow);
  switch (role) {
    case "offpeak":
      return micros(version.unitPriceMicrosPer1kTokens);
    case "peak":
      return micros(version.unitPriceMicrosPer1kTokens, version.peakMultiplierBp);
    case "batch":
      return micros(version.unitPriceMicrosPer1kTokens, 10_000 - version.batchDiscountBp);
    case "overage":
      return micros(version.overagePriceMicrosPer1kTokens ?? version.unitPriceMicrosPer1kTokens);
    case "fee":
      return micros(version.monthlyFeeMicros);
  }
}

export interface CatalogSyncDeps {
  stripe: StripeGateway;
  catalog: StripeCatalogStore;
  customers: Pick<BillingCustomers, "getCustomer" | "update">;
  keys: IdempotencyKeys;
  clock: Clock;
  collectionMethod: "charge_automatically" | "send_invoice";
  daysUntilDue: number;
}

/**
 * Mirrors plans, price versions, customers and enterprise subscriptions into Stripe. Every step looks in our tables
 * first, then creates with a deterministic idempotency key and records the result (first writer wins), so it can be
 * repeated at any time, crash or not.
 */
export class CatalogSync {
  constructor(private readonly d: CatalogSyncDeps) {}

  /** The Stripe prices of a version (creating what is missing): a new version always gets new prices. */
  async mirrorVersion(plan: Plan, version: PriceVersion): Promise<StripePriceRef[]> {
    const productId =
      (await this.d.catalog.getProduct(plan.id)) ??
      (await this.d.catalog.setProduct(
        plan.id,
        await this.d.stripe.createProduct({ planId: plan.id, name: plan.name }, this.d.keys.product(plan.id)),
      ));
    const have = new Map((await this.d.catalog.getPrices(version.id)).map((p) => [p.role, p]));
    for (const role of PRICE_ROLES[plan.kind]) {
      if (have.has(role)) continue;
      if (role === "fee" && version.monthlyFeeMicros === 0) continue;
      const priceId = await this.d.stripe.createPrice(
        {
          productId,
          currency: plan.currency,
          unitAmountDecimal: roleUnitAmount(version, role, plan.currency),
          recurringMonthly: role === "fee",
          nickname: `${plan.name} v${version.version} ${role}${role === "fee" ? " (monthly)" : " per 1,000 tokens"}`,
          metadata: {
            plan_id: plan.id,
            price_version_id: version.id,
            version: String(version.version),
            role,
            effective_from: new Date(version.effectiveFrom).toISOString(),
            unit: role === "fee" ? "month" : "1000_tokens",
          },
        },
        this.d.keys.price(version.id, role),
      );
      have.set(
        role,
        await this.d.catalog.setPrice(version.id, { role, stripePriceId: priceId, stripeProductId: productId }),
      );
    }
    return [...have.values()];
  }

  /** Every version of every plan. Returns the failures (the rest is mirrored). */
  async mirrorAll(book: PriceBook): Promise<{ priceVersionId: string; error: string }[]> {
    const failures: { priceVersionId: string; error: string }[] = [];
    for (const plan of book.plans()) {
      for (const version of book.versions(plan.id)) {
        try {
          await this.mirrorVersion(plan, version);
        } catch (e) {
          failures.push({ priceVersionId: version.id, error: e instanceof Error ? e.message : String(e) });
        }
      }
    }
    return failures;
  }

  /** The customer's Stripe customer, created on first need and remembered on the customer row. */
  async ensureCustomer(customer: Customer): Promise<string> {
    if (customer.stripeCustomerId) return customer.stripeCustomerId;
    const stripeId =
      (await this.d.stripe.findCustomer(customer.id)) ??
      (await this.d.stripe.createCustomer(
        { customerId: customer.id, name: customer.name, email: customer.email },
        this.d.keys.customer(customer.id),
      ));
    const updated = await this.d.customers.update(customer.id, { stripeCustomerId: stripeId });
    if (!updated.ok) throw new Error(`cannot record Stripe customer ${stripeId} on ${customer.id}: ${updated.message}`);
    return stripeId;
  }

  /**
   * An enterprise customer's subscription for the monthly fee of the version in force now; moved to the new fee
   * price when a new version is in force. A subscription Stripe deleted is not recreated (the contract ended).
   */
  async ensureSubscription(customer: Customer, book: PriceBook): Promise<Subscription | null> {
    const plan = book.plan(customer.planId);
    if (plan?.kind !== "enterprise") return null;
    const version = book.versionAt(plan.id, this.d.clock.now());
    if (!version || version.monthlyFeeMicros === 0) return null;
    const fee = (await this.mirrorVersion(plan, version)).find((p) => p.role === "fee");
    if (!fee) return null;
    const existing = await this.d.catalog.getSubscription(customer.id);
    if (existing?.status === "canceled") return existing;
    if (existing) {
      if (existing.priceVersionId === version.id) return existing;
      const sub = await this.d.stripe.findSubscription(await this.ensureCustomer(customer), customer.id);
      if (!sub?.itemId) return existing;
      const moved = await this.d.stripe.updateSubscriptionPrice(
        sub.id,
        sub.itemId,
        fee.stripePriceId,
        this.d.keys.subscriptionPrice(sub.id, version.id),
      );
      return this.d.catalog.putSubscription({
        customerId: customer.id,
        stripeSubscriptionId: moved.id,
        stripePriceId: fee.stripePriceId,
        priceVersionId: version.id,
        status: moved.status,
      });
    }
    const stripeCustomerId = await this.ensureCustomer(customer);
    const sub =
      (await this.d.stripe.findSubscription(stripeCustomerId, customer.id)) ??
      (await this.d.stripe.createSubscription(
        {
          stripeCustomerId,
          priceId: fee.stripePriceId,
          metadata: { customer_id: customer.id, plan_id: plan.id, price_version_id: version.id },
          collectionMethod: this.d.collectionMethod,
          daysUntilDue: this.d.daysUntilDue,
        },
        this.d.keys.subscription(customer.id),
      ));
    return this.d.catalog.putSubscription({
      customerId: customer.id,
      stripeSubscriptionId: sub.id,
      stripePriceId: sub.priceId ?? fee.stripePriceId,
      priceVersionId: version.id,
      status: sub.status,
    });
  }
}
