import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type BillingContractOptions, type BillingHarness, ManualClock, seedBilling } from "./testing/harness.ts";

/** The DunningStore contract: every implementation must pass it. */
export function runDunningStoreContract({ name, make }: BillingContractOptions): void {
  describe(`DunningStore contract (${name})`, () => {
    let h: BillingHarness;
    let clock: ManualClock;
    const t0 = Date.UTC(2026, 1, 1);

    beforeEach(async () => {
      clock = new ManualClock(t0);
      h = await make(clock);
      await seedBilling(h);
    });
    afterEach(async () => {
      await h.close?.();
    });

    it("keeps the first failure time and counts failures until paid", async () => {
      expect(await h.billing.dunning.recordFailure("in_1", "cus_a")).toMatchObject({
        firstFailedAt: t0,
        failures: 1,
        paidAt: null,
      });
      clock.advance(3_600_000);
      expect(await h.billing.dunning.recordFailure("in_1", "cus_a")).toMatchObject({
        firstFailedAt: t0,
        lastFailedAt: t0 + 3_600_000,
        failures: 2,
      });
      expect((await h.billing.dunning.unpaidFor("cus_a")).map((u) => u.stripeInvoiceId)).toEqual(["in_1"]);
      clock.advance(1);
      expect(await h.billing.dunning.recordPaid("in_1")).toMatchObject({ paidAt: t0 + 3_600_001 });
      expect(await h.billing.dunning.unpaidFor("cus_a")).toEqual([]);
      // A late failure event for a paid invoice changes nothing.
      expect(await h.billing.dunning.recordFailure("in_1", "cus_a")).toMatchObject({
        failures: 2,
        paidAt: t0 + 3_600_001,
      });
      expect(await h.billing.dunning.recordPaid("in_404")).toBeNull();
    });

    it("lists overdue invoices (unpaid, not suspended, failed at or before a time) once", async () => {
      await h.billing.dunning.recordFailure("in_1", "cus_a");
      clock.advance(1_000);
      await h.billing.dunning.recordFailure("in_2", "cus_b");
      expect((await h.billing.dunning.overdue(t0 - 1)).length).toBe(0);
      expect((await h.billing.dunning.overdue(t0)).map((u) => u.stripeInvoiceId)).toEqual(["in_1"]);
      expect((await h.billing.dunning.overdue(t0 + 1_000)).map((u) => u.stripeInvoiceId)).toEqual(["in_1", "in_2"]);
      await h.billing.dunning.markSuspended("in_1");
      expect((await h.billing.dunning.overdue(t0 + 1_000)).map((u) => u.stripeInvoiceId)).toEqual(["in_2"]);
      await h.billing.dunning.recordPaid("in_2");
      expect(await h.billing.dunning.overdue(t0 + 1_000)).toEqual([]);
      expect((await h.billing.dunning.unpaidFor("cus_a"))[0]).toMatchObject({ suspendedAt: t0 + 1_000 });
    });
  });
}
