import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type BillingContractOptions, type BillingHarness, ManualClock, seedBilling } from "./testing/harness.ts";

/** The StripeCatalogStore contract: every implementation must pass it. */
export function runStripeCatalogStoreContract({ name, make }: BillingContractOptions): void {
  describe(`StripeCatalogStore contract (${name})`, () => {
    let h: BillingHarness;
    let clock: ManualClock;
    let versions: { basic: string; enterprise: string };

    beforeEach(async () => {
      clock = new ManualClock(Date.UTC(2026, 0, 1));
      h = await make(clock);
      const seed = await seedBilling(h);
      versions = { basic: seed.basic.id, enterprise: seed.enterprise.id };
    });
    afterEach(async () => {
      await h.close?.();
    });

    it("keeps the first product of a plan", async () => {
      expect(await h.billing.catalog.getProduct("basic")).toBeNull();
      expect(await h.billing.catalog.setProduct("basic", "prod_1")).toBe("prod_1");
      expect(await h.billing.catalog.setProduct("basic", "prod_2")).toBe("prod_1");
      expect(await h.billing.catalog.getProduct("basic")).toBe("prod_1");
    });

    it("keeps the first price per version and role, listed in role order", async () => {
      const set = (role: "offpeak" | "peak" | "fee" | "overage", id: string, version = versions.basic) =>
        h.billing.catalog.setPrice(version, { role, stripePriceId: id, stripeProductId: "prod_1" });
      await set("peak", "price_p");
      await set("offpeak", "price_o");
      expect(await set("peak", "price_other")).toEqual({
        role: "peak",
        stripePriceId: "price_p",
        stripeProductId: "prod_1",
      });
      await set("fee", "price_f", versions.enterprise);
      await set("overage", "price_x", versions.enterprise);
      expect((await h.billing.catalog.getPrices(versions.basic)).map((p) => p.stripePriceId)).toEqual([
        "price_o",
        "price_p",
      ]);
      expect((await h.billing.catalog.getPrices(versions.enterprise)).map((p) => p.role)).toEqual(["overage", "fee"]);
      expect(await h.billing.catalog.getPrices("pv_none")).toEqual([]);
    });

    it("stores, replaces and finds a customer's subscription", async () => {
      const sub = {
        customerId: "cus_a",
        stripeSubscriptionId: "sub_1",
        stripePriceId: "price_f",
        priceVersionId: versions.enterprise,
        status: "active",
      };
      expect(await h.billing.catalog.getSubscription("cus_a")).toBeNull();
      expect(await h.billing.catalog.putSubscription(sub)).toMatchObject({ ...sub, createdAt: clock.now() });
      clock.advance(5);
      expect(await h.billing.catalog.setSubscriptionStatus("sub_1", "canceled")).toMatchObject({
        status: "canceled",
        updatedAt: clock.now(),
      });
      expect(await h.billing.catalog.setSubscriptionStatus("sub_404", "canceled")).toBeNull();
      expect(await h.billing.catalog.findSubscription("sub_1")).toMatchObject({
        customerId: "cus_a",
        status: "canceled",
      });
      await h.billing.catalog.putSubscription({ ...sub, stripeSubscriptionId: "sub_2", status: "active" });
      expect(await h.billing.catalog.getSubscription("cus_a")).toMatchObject({ stripeSubscriptionId: "sub_2" });
      expect(await h.billing.catalog.findSubscription("sub_1")).toBeNull();
    });
  });
}
