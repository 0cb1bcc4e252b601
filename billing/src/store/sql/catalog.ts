import { and, eq } from "drizzle-orm";
import type { Clock } from "../../../../domain/records.ts";
import type { Schema } from "../../../../migrations/schema/index.ts";
import { first, type SqlDb, tablesOf } from "../../../../storage/sql-db.ts";
import type { NewSubscription, StripeCatalogStore, StripePriceRef, Subscription } from "../ports.ts";
import { PRICE_ROLE_ORDER } from "../validation.ts";

const priceRef = (prices: Schema["billingStripePrices"]) => ({
  role: prices.role,
  stripePriceId: prices.stripePriceId,
  stripeProductId: prices.stripeProductId,
});

/** The Stripe catalogue mirror: first writer wins (insert or ignore, then read back; rows are never deleted). */
export class SqlStripeCatalogStore implements StripeCatalogStore {
  constructor(
    private readonly db: SqlDb,
    private readonly clock: Clock,
  ) {}

  async getProduct(planId: string): Promise<string | null> {
    const { billingStripeProducts } = tablesOf(this.db);
    const found = await this.db
      .select({ id: billingStripeProducts.stripeProductId })
      .from(billingStripeProducts)
      .where(eq(billingStripeProducts.planId, planId))
      .then(first);
    return found?.id ?? null;
  }

  async setProduct(planId: string, stripeProductId: string): Promise<string> {
    const { billingStripeProducts } = tablesOf(this.db);
    await this.db
      .insert(billingStripeProducts)
      .values({ planId, stripeProductId, createdAt: this.clock.now() })
      .onConflictDoNothing({ target: billingStripeProducts.planId });
    const stored = await this.db
      .select({ id: billingStripeProducts.stripeProductId })
      .from(billingStripeProducts)
      .where(eq(billingStripeProducts.planId, planId));
    return stored[0]?.id ?? stripeProductId;
  }

  async getPrices(priceVersionId: string): Promise<StripePriceRef[]> {
    const { billingStripePrices } = tablesOf(this.db);
    const rows = await this.db
      .select(priceRef(billingStripePrices))
      .from(billingStripePrices)
      .where(eq(billingStripePrices.priceVersionId, priceVersionId));
    return rows.sort((a, b) => PRICE_ROLE_ORDER[a.role] - PRICE_ROLE_ORDER[b.role]);
  }

  async setPrice(priceVersionId: string, price: StripePriceRef): Promise<StripePriceRef> {
    const { billingStripePrices } = tablesOf(this.db);
    await this.db
      .insert(billingStripePrices)
      .values({ priceVersionId, ...price, createdAt: this.clock.now() })
      .onConflictDoNothing({ target: [billingStripePrices.priceVersionId, billingStripePrices.role] });
    const stored = await this.db
      .select(priceRef(billingStripePrices))
      .from(billingStripePrices)
      .where(and(eq(billingStripePrices.priceVersionId, priceVersionId), eq(billingStripePrices.role, price.role)));
    return stored[0] ?? price;
  }

  async getSubscription(customerId: string): Promise<Subscription | null> {
    const { billingSubscriptions } = tablesOf(this.db);
    const found = await this.db
      .select()
      .from(billingSubscriptions)
      .where(eq(billingSubscriptions.customerId, customerId))
      .then(first);
    return found ?? null;
  }

  async findSubscription(stripeSubscriptionId: string): Promise<Subscription | null> {
    const { billingSubscriptions } = tablesOf(this.db);
    const found = await this.db
      .select()
      .from(billingSubscriptions)
      .where(eq(billingSubscriptions.stripeSubscriptionId, stripeSubscriptionId))
      .then(first);
    return found ?? null;
  }

  async putSubscription(sub: NewSubscription): Promise<Subscription> {
    const { billingSubscriptions } = tablesOf(this.db);
    const now = this.clock.now();
    const { customerId, ...rest } = sub;
    const stored = await this.db
      .insert(billingSubscriptions)
      .values({ ...sub, createdAt: now, updatedAt: now })
      .onConflictDoUpdate({ target: billingSubscriptions.customerId, set: { ...rest, updatedAt: now } })
      .returning()
      .then(first);
    if (!stored) throw new Error("the database returned no row for an upsert");
    return stored;
  }

  async setSubscriptionStatus(stripeSubscriptionId: string, status: string): Promise<Subscription | null> {
    const { billingSubscriptions } = tablesOf(this.db);
    const updated = await this.db
      .update(billingSubscriptions)
      .set({ status, updatedAt: this.clock.now() })
      .where(eq(billingSubscriptions.stripeSubscriptionId, stripeSubscriptionId))
      .returning()
      .then(first);
    return updated ?? null;
  }
}
