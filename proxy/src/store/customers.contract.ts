import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { NewPlan, Stores } from "./ports.ts";
import { type ContractOptions, ManualClock, type StoreHarness } from "./testing/harness.ts";

const plan = (id: string): NewPlan => ({
  id,
  kind: "basic",
  name: id,
  currency: "USD",
  timeZone: "UTC",
  requestsPerSecond: 5,
  burst: 10,
  maxInFlight: 2,
});

/** The CustomerStore contract: every implementation must pass it. */
export function runCustomerStoreContract({ name, make }: ContractOptions): void {
  describe(`CustomerStore contract (${name})`, () => {
    let clock: ManualClock;
    let harness: StoreHarness;
    let stores: Stores;

    beforeEach(async () => {
      clock = new ManualClock();
      harness = await make(clock);
      stores = harness.stores;
      await stores.plans.upsertPlan(plan("basic"));
      await stores.plans.upsertPlan({ ...plan("enterprise"), kind: "enterprise" });
    });
    afterEach(async () => {
      await harness.close?.();
    });

    it("creates an active customer with a generated id and reads it back", async () => {
      const created = await stores.customers.createCustomer({ name: "Acme", email: "a@acme.test", planId: "basic" });
      if (!created.ok) throw new Error(created.message);
      expect(created.value).toMatchObject({
        name: "Acme",
        planId: "basic",
        status: "active",
        suspendedReason: null,
        dedicatedPool: null,
        stripeCustomerId: null,
        createdAt: clock.now(),
      });
      expect(created.value.id).toMatch(/^cus_/);
      expect(await stores.customers.getCustomer(created.value.id)).toEqual(created.value);
      expect(await stores.customers.getCustomer("cus_unknown")).toBeNull();
    });

    it("refuses an unknown plan, a taken id and an empty name", async () => {
      const input = { id: "cus_1", name: "A", email: "a@a.test", planId: "basic" };
      expect(await stores.customers.createCustomer({ ...input, planId: "gold" })).toMatchObject({
        error: "plan_not_found",
      });
      expect((await stores.customers.createCustomer(input)).ok).toBe(true);
      expect(await stores.customers.createCustomer(input)).toMatchObject({ error: "id_taken" });
      expect(await stores.customers.createCustomer({ ...input, id: "cus_2", name: "" })).toMatchObject({
        error: "invalid",
      });
    });

    it("suspends with a reason and restores, clearing it", async () => {
      await stores.customers.createCustomer({ id: "cus_1", name: "A", email: "a@a.test", planId: "basic" });
      const suspended = await stores.customers.suspend("cus_1", "chargeback");
      expect(suspended).toMatchObject({ status: "suspended", suspendedReason: "chargeback" });
      expect(await stores.customers.getCustomer("cus_1")).toMatchObject({ status: "suspended" });
      expect(await stores.customers.restore("cus_1")).toMatchObject({ status: "active", suspendedReason: null });
      expect(await stores.customers.suspend("cus_unknown", "x")).toBeNull();
    });

    it("updates plan, dedicated pool and Stripe id; one Stripe customer per customer", async () => {
      await stores.customers.createCustomer({ id: "cus_1", name: "A", email: "a@a.test", planId: "basic" });
      await stores.customers.createCustomer({ id: "cus_2", name: "B", email: "b@b.test", planId: "basic" });
      const updated = await stores.customers.update("cus_1", {
        planId: "enterprise",
        dedicatedPool: "acme",
        stripeCustomerId: "cus_Stripe1",
      });
      expect(updated).toMatchObject({ ok: true, value: { planId: "enterprise", dedicatedPool: "acme", name: "A" } });
      expect(await stores.customers.update("cus_2", { stripeCustomerId: "cus_Stripe1" })).toMatchObject({
        error: "invalid",
      });
      expect(await stores.customers.update("cus_2", { planId: "gold" })).toMatchObject({ error: "plan_not_found" });
      expect(await stores.customers.update("cus_9", { name: "X" })).toMatchObject({ error: "not_found" });
    });

    it("lists by id, filtered by status, in pages", async () => {
      for (const id of ["cus_c", "cus_a", "cus_b"]) {
        await stores.customers.createCustomer({ id, name: id, email: `${id}@x.test`, planId: "basic" });
      }
      await stores.customers.suspend("cus_b", "fraud");
      expect((await stores.customers.list()).map((c) => c.id)).toEqual(["cus_a", "cus_b", "cus_c"]);
      expect((await stores.customers.list({ status: "suspended" })).map((c) => c.id)).toEqual(["cus_b"]);
      expect((await stores.customers.list({ limit: 1, afterId: "cus_a" })).map((c) => c.id)).toEqual(["cus_b"]);
    });
  });
}
