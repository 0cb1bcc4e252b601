import { and, eq } from "drizzle-orm";
import type { Clock } from "../../../../domain/records.ts";
import {
  billingStripePrices,
  billingStripeProducts,
  billingSubscriptions,
} from "../../../../migrations/schema/index.ts";
import type { SqlDb } from "../../../../storage/sql-db.ts";
import type { NewSubscription, StripeCatalogStore, StripePriceRef, Subscription } from "../ports.ts";
import { PRICE_ROLE_ORDER } from "../validation.ts";

const priceRef = {
  role: billingStripePrices.role,
  stripePriceId: billingStripePrices.stripePriceId,
  stripeProductId: billingStripePrices.stripeProductId,
};

/** The Stripe catalogue mirror: first writer wins (insert or ignore, then read back; rows are never deleted). */
export class SqlStripeCatalogStore implements StripeCatalogStore {
  constructor(
    private readonly db: SqlDb,
    private readonly clock: Clock,
  ) {}

  async getProduct(planId: string): Promise<string | null> {
    const found = await this.db
      .select({ id: billingStripeProducts.stripeProductId })
      .from(billingStripeProducts)
      .where(eq(billingStripeProducts.planId, planId))
      .get();
    return found?.id ?? null;
  }

  async setProduct(planId: string, stripeProductId: string): Promise<string> {
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
    const rows = await this.db
      .select(priceRef)
      .from(billingStripePrices)
      .where(eq(billingStripePrices.priceVersionId, priceVersionId))
      .all();
    return rows.sort((a, b) => PRICE_ROLE_ORDER[a.role] - PRICE_ROLE_ORDER[b.role]);
  }

  async setPrice(priceVersionId: string, price: StripePriceRef): Promise<StripePriceRef> {
    await this.db
      .insert(billingStripePrices)
      .values({ priceVersionId, ...price, createdAt: this.clock.now() })
      .onConflictDoNothing({ target: [billingStripePrices.priceVersionId, billingStripePrices.role] });
    const stored = await this.db
      .select(priceRef)
      .from(billingStripePrices)
      .where(and(eq(billingStripePrices.priceVersionId, priceVersionId), eq(billingStripePrices.role, price.role)));
    return stored[0] ?? price;
  }

  async getSubscription(customerId: string): Promise<Subscription | null> {
    const found = await this.db
      .select()
      .from(billingSubscriptions)
      .where(eq(billingSubscriptions.customerId, customerId))
      .get();
    return found ?? null;
  }

  async findSubscription(stripeSubscriptionId: string): Promise<Subscription | null> {
    const found = await this.db
      .select()
      .from(billingSubscriptions)
      .where(eq(billingSubscriptions.stripeSubscriptionId, stripeSubscriptionId))
      .get();
    return found ?? null;
  }

  async putSubscription(sub: NewSubscription): Promise<Subscription> {
    const now = this.clock.now();
    const { customerId, ...rest } = sub;
    const stored = await this.db
      .insert(billingSubscriptions)
      .values({ ...sub, createdAt: now, updatedAt: now })
      .onConflictDoUpdate({ target: billingSubscriptions.customerId, set: { ...rest, updatedAt: now } })
      .returning()
      .get();
    if (!stored) throw new Error("the database returned no row for an upsert");
    return stored;
  }

  async setSubscriptionStatus(stripeSubscriptionId: string, status: string): Promise<Subscription | null> {
    const updated = await this.db
      .update(billingSubscriptions)
      .set({ status, updatedAt: this.clock.now() })
      .where(eq(billingSubscriptions.stripeSubscriptionId, stripeSubscriptionId))
      .returning()
      .get();
    return updated ?? null;
  }
}
