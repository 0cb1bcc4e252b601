import { and, eq } from "drizzle-orm";
import type { Clock } from "../../../../domain/records.ts";
import {
  billingStripePrices,
  billingStripeProducts,
  billingSubscriptions,
} from "../../../../migrations/schema/index.ts";
import type { SqliteDb } from "../../../../storage/sqlite/open.ts";
import type { NewSubscription, StripeCatalogStore, StripePriceRef, Subscription } from "../ports.ts";
import { PRICE_ROLE_ORDER } from "../validation.ts";

export class SqliteStripeCatalogStore implements StripeCatalogStore {
  constructor(
    private readonly db: SqliteDb,
    private readonly clock: Clock,
  ) {}

  async getProduct(planId: string): Promise<string | null> {
    return (
      this.db
        .select({ id: billingStripeProducts.stripeProductId })
        .from(billingStripeProducts)
        .where(eq(billingStripeProducts.planId, planId))
        .get()?.id ?? null
    );
  }

  async setProduct(planId: string, stripeProductId: string): Promise<string> {
    this.db
      .insert(billingStripeProducts)
      .values({ planId, stripeProductId, createdAt: this.clock.now() })
      .onConflictDoNothing({ target: billingStripeProducts.planId })
      .run();
    return (await this.getProduct(planId)) ?? stripeProductId;
  }

  async getPrices(priceVersionId: string): Promise<StripePriceRef[]> {
    const rows = this.db
      .select({
        role: billingStripePrices.role,
        stripePriceId: billingStripePrices.stripePriceId,
        stripeProductId: billingStripePrices.stripeProductId,
      })
      .from(billingStripePrices)
      .where(eq(billingStripePrices.priceVersionId, priceVersionId))
      .all();
    return rows.sort((a, b) => PRICE_ROLE_ORDER[a.role] - PRICE_ROLE_ORDER[b.role]);
  }

  async setPrice(priceVersionId: string, price: StripePriceRef): Promise<StripePriceRef> {
    this.db
      .insert(billingStripePrices)
      .values({ priceVersionId, ...price, createdAt: this.clock.now() })
      .onConflictDoNothing({ target: [billingStripePrices.priceVersionId, billingStripePrices.role] })
      .run();
    const stored = this.db
      .select({
        role: billingStripePrices.role,
        stripePriceId: billingStripePrices.stripePriceId,
        stripeProductId: billingStripePrices.stripeProductId,
      })
      .from(billingStripePrices)
      .where(and(eq(billingStripePrices.priceVersionId, priceVersionId), eq(billingStripePrices.role, price.role)))
      .get();
    return stored ?? price;
  }

  async getSubscription(customerId: string): Promise<Subscription | null> {
    return (
      this.db.select().from(billingSubscriptions).where(eq(billingSubscriptions.customerId, customerId)).get() ?? null
    );
  }

  async findSubscription(stripeSubscriptionId: string): Promise<Subscription | null> {
    return (
      this.db
        .select()
        .from(billingSubscriptions)
        .where(eq(billingSubscriptions.stripeSubscriptionId, stripeSubscriptionId))
        .get() ?? null
    );
  }

  async putSubscription(sub: NewSubscription): Promise<Subscription> {
    const now = this.clock.now();
    const { customerId, ...rest } = sub;
    return this.db
      .insert(billingSubscriptions)
      .values({ ...sub, createdAt: now, updatedAt: now })
      .onConflictDoUpdate({ target: billingSubscriptions.customerId, set: { ...rest, updatedAt: now } })
      .returning()
      .get();
  }

  async setSubscriptionStatus(stripeSubscriptionId: string, status: string): Promise<Subscription | null> {
    return (
      this.db
        .update(billingSubscriptions)
        .set({ status, updatedAt: this.clock.now() })
        .where(eq(billingSubscriptions.stripeSubscriptionId, stripeSubscriptionId))
        .returning()
        .get() ?? null
    );
  }
}
