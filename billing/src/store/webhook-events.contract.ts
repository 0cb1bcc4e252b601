import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type BillingContractOptions, type BillingHarness, ManualClock } from "./testing/harness.ts";

/** The WebhookEventStore contract: every implementation must pass it. */
export function runWebhookEventStoreContract({ name, make }: BillingContractOptions): void {
  describe(`WebhookEventStore contract (${name})`, () => {
    let h: BillingHarness;
    let clock: ManualClock;

    beforeEach(async () => {
      clock = new ManualClock(Date.UTC(2026, 0, 1));
      h = await make(clock);
    });
    afterEach(async () => {
      await h.close?.();
    });

    it("processes an event id once: new, then done for every later delivery", async () => {
      expect(await h.billing.webhooks.claim("evt_1", "invoice.paid", 60_000)).toEqual({ state: "new", attempt: 1 });
      await h.billing.webhooks.complete("evt_1", "restored cus_a");
      expect(await h.billing.webhooks.claim("evt_1", "invoice.paid", 60_000)).toEqual({
        state: "done",
        outcome: "restored cus_a",
      });
      expect(await h.billing.webhooks.get("evt_1")).toEqual({
        eventId: "evt_1",
        type: "invoice.paid",
        state: "done",
        outcome: "restored cus_a",
      });
      expect(await h.billing.webhooks.get("evt_2")).toBeNull();
    });

    it("a concurrent delivery waits; an abandoned attempt is taken over after the stale limit", async () => {
      await h.billing.webhooks.claim("evt_1", "invoice.paid", 60_000);
      clock.advance(59_999);
      expect(await h.billing.webhooks.claim("evt_1", "invoice.paid", 60_000)).toEqual({ state: "in_progress" });
      clock.advance(1);
      expect(await h.billing.webhooks.claim("evt_1", "invoice.paid", 60_000)).toEqual({ state: "new", attempt: 2 });
    });

    it("a released attempt is processed again by the next delivery; a done one is never released", async () => {
      await h.billing.webhooks.claim("evt_1", "invoice.paid", 60_000);
      await h.billing.webhooks.release("evt_1");
      expect(await h.billing.webhooks.claim("evt_1", "invoice.paid", 60_000)).toMatchObject({ state: "new" });
      await h.billing.webhooks.complete("evt_1", "ok");
      await h.billing.webhooks.release("evt_1");
      expect(await h.billing.webhooks.claim("evt_1", "invoice.paid", 60_000)).toMatchObject({ state: "done" });
    });
  });
}
