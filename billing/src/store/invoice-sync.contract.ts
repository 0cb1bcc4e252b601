import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { NewInvoiceSync } from "./ports.ts";
import { type BillingContractOptions, type BillingHarness, ManualClock, seedBilling } from "./testing/harness.ts";

const t0 = Date.UTC(2026, 1, 5);

export const newSync = (overrides: Partial<NewInvoiceSync> = {}): NewInvoiceSync => ({
  customerId: "cus_a",
  period: "2026-01",
  state: "planned",
  currency: "USD",
  timeZone: "UTC",
  fromMs: Date.UTC(2026, 0, 1),
  toMs: Date.UTC(2026, 1, 1),
  events: 3,
  tokens: 3_000,
  ledgerMicros: 62_345,
  carryInMicros: 1_000,
  carryOutMicros: 3_345,
  billedMicros: 60_000,
  totalMinor: 6,
  plan: { lines: [{ key: "offpeak:basic:v1", amountMinor: 6 }] },
  error: null,
  ...overrides,
});

/** The InvoiceSyncStore contract (the reconciler's state machine): every implementation must pass it. */
export function runInvoiceSyncStoreContract({ name, make }: BillingContractOptions): void {
  describe(`InvoiceSyncStore contract (${name})`, () => {
    let h: BillingHarness;
    let clock: ManualClock;

    beforeEach(async () => {
      clock = new ManualClock(t0);
      h = await make(clock);
      await seedBilling(h);
    });
    afterEach(async () => {
      await h.close?.();
    });

    it("stores a plan once: the first plan wins, a second create returns it unchanged", async () => {
      const first = await h.billing.syncs.create(newSync());
      expect(first).toMatchObject({ state: "planned", ledgerMicros: 62_345, stripeInvoiceId: null, createdAt: t0 });
      expect(first.plan).toEqual({ lines: [{ key: "offpeak:basic:v1", amountMinor: 6 }] });
      clock.advance(1_000);
      const second = await h.billing.syncs.create(newSync({ ledgerMicros: 99_999, billedMicros: 97_654 }));
      expect(second).toEqual(first);
      expect(await h.billing.syncs.get("cus_a", "2026-01")).toEqual(first);
      expect(await h.billing.syncs.get("cus_a", "2026-02")).toBeNull();
    });

    it("refuses plans that break the money invariants", async () => {
      const bad = [
        newSync({ billedMicros: 60_001 }),
        newSync({ ledgerMicros: 1.5 }),
        newSync({ totalMinor: -1 }),
        newSync({ period: "2026-1" }),
      ];
      for (const sync of bad) await expect(h.billing.syncs.create(sync)).rejects.toThrow();
      expect(await h.billing.syncs.get("cus_a", "2026-01")).toBeNull();
    });

    it("moves through the states by compare-and-set; a stale transition is refused", async () => {
      await h.billing.syncs.create(newSync());
      clock.advance(10);
      const created = await h.billing.syncs.transition("cus_a", "2026-01", ["planned"], "invoice_created", {
        stripeCustomerId: "cus_S1",
        stripeInvoiceId: "in_1",
        stripeInvoiceStatus: "draft",
      });
      expect(created).toMatchObject({ state: "invoice_created", stripeInvoiceId: "in_1", updatedAt: t0 + 10 });
      // A second runner that still thinks it is `planned` loses.
      expect(
        await h.billing.syncs.transition("cus_a", "2026-01", ["planned"], "invoice_created", {
          stripeInvoiceId: "in_2",
        }),
      ).toBeNull();
      expect((await h.billing.syncs.get("cus_a", "2026-01"))?.stripeInvoiceId).toBe("in_1");
      const finalized = await h.billing.syncs.transition(
        "cus_a",
        "2026-01",
        ["invoice_created", "items_created"],
        "finalized",
        { stripeInvoiceStatus: "open", stripeTotalMinor: 6, stripeInvoiceNumber: "A-0001" },
      );
      expect(finalized).toMatchObject({ state: "finalized", stripeTotalMinor: 6, stripeInvoiceId: "in_1" });
      expect(await h.billing.syncs.transition("cus_x", "2026-01", ["planned"], "blocked")).toBeNull();
      expect(await h.billing.syncs.findByStripeInvoice("in_1")).toMatchObject({ customerId: "cus_a" });
      expect(await h.billing.syncs.findByStripeInvoice("in_404")).toBeNull();
    });

    it("patches Stripe fields without changing state", async () => {
      await h.billing.syncs.create(newSync({ state: "reconciled" }));
      const patched = await h.billing.syncs.patch("cus_a", "2026-01", { stripeInvoiceStatus: "paid" });
      expect(patched).toMatchObject({ state: "reconciled", stripeInvoiceStatus: "paid" });
      expect(await h.billing.syncs.patch("cus_a", "2025-01", { stripeInvoiceStatus: "paid" })).toBeNull();
    });

    it("records one invoice item per line; the first id recorded is kept", async () => {
      await h.billing.syncs.create(newSync());
      expect(await h.billing.syncs.setLineItem("cus_a", "2026-01", "offpeak:basic:v1", "ii_1")).toBe("ii_1");
      expect(await h.billing.syncs.setLineItem("cus_a", "2026-01", "offpeak:basic:v1", "ii_2")).toBe("ii_1");
      expect(await h.billing.syncs.setLineItem("cus_a", "2026-01", "peak:basic:v1", "ii_3")).toBe("ii_3");
      expect(await h.billing.syncs.lineItems("cus_a", "2026-01")).toEqual({
        "offpeak:basic:v1": "ii_1",
        "peak:basic:v1": "ii_3",
      });
      expect(await h.billing.syncs.lineItems("cus_b", "2026-01")).toEqual({});
    });

    it("answers the previous and later periods of a customer (for carries and ordering)", async () => {
      await h.billing.syncs.create(newSync({ period: "2025-11" }));
      await h.billing.syncs.create(newSync({ period: "2025-12", carryOutMicros: 345, billedMicros: 63_000 }));
      await h.billing.syncs.create(newSync({ customerId: "cus_b", period: "2026-03" }));
      expect((await h.billing.syncs.latestBefore("cus_a", "2026-01"))?.period).toBe("2025-12");
      expect((await h.billing.syncs.latestBefore("cus_a", "2025-12"))?.period).toBe("2025-11");
      expect(await h.billing.syncs.latestBefore("cus_a", "2025-11")).toBeNull();
      expect(await h.billing.syncs.hasAfter("cus_a", "2025-11")).toBe(true);
      expect(await h.billing.syncs.hasAfter("cus_a", "2025-12")).toBe(false);
      expect(await h.billing.syncs.hasAfter("cus_a", "2026-03")).toBe(false);
      expect((await h.billing.syncs.listPeriod("2025-12")).map((s) => s.customerId)).toEqual(["cus_a"]);
      await h.billing.syncs.create(newSync({ customerId: "cus_b", period: "2025-12" }));
      expect((await h.billing.syncs.listPeriod("2025-12")).map((s) => s.customerId)).toEqual(["cus_a", "cus_b"]);
    });
  });
}
