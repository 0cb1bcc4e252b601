import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { UsageEvent } from "../../../domain/records.ts";
import { type BillingContractOptions, type BillingHarness, ManualClock, seedBilling } from "./testing/harness.ts";

const t0 = Date.UTC(2026, 0, 1);

/** The UsageSource contract: every implementation must pass it. */
export function runUsageSourceContract({ name, make }: BillingContractOptions): void {
  describe(`UsageSource contract (${name})`, () => {
    let h: BillingHarness;
    let event: (customerId: "cus_a" | "cus_b", requestId: string, occurredAt: number, tokens?: number) => UsageEvent;

    beforeEach(async () => {
      h = await make(new ManualClock(t0));
      const seed = await seedBilling(h);
      event = (customerId, requestId, occurredAt, tokens = 10) => ({
        requestId,
        customerId,
        apiKeyId: seed.keys[customerId],
        planId: "basic",
        priceVersionId: seed.basic.id,
        occurredAt,
        audioMs: 200,
        tokens,
        inputChars: 5,
        peak: false,
        multiplierBp: 10_000,
        amountMicros: tokens * 20,
        currency: "USD",
        nodeId: null,
        priority: "interactive",
      });
    });
    afterEach(async () => {
      await h.close?.();
    });

    const collect = async (customerId: string, fromMs: number, toMs: number, batchSize?: number) => {
      const batches: UsageEvent["requestId"][][] = [];
      for await (const batch of h.billing.usage.scan({ customerId, fromMs, toMs, ...(batchSize ? { batchSize } : {}) }))
        batches.push(batch.map((e) => `${e.occurredAt - t0}:${e.tokens}`));
      return batches;
    };

    it("yields a customer's events in [from, to), ascending by time, each once", async () => {
      await h.addUsage([
        event("cus_a", "r3", t0 + 300, 3),
        event("cus_a", "r1", t0 + 100, 1),
        event("cus_b", "r2", t0 + 200, 2),
        event("cus_a", "r0", t0, 0),
        event("cus_a", "r9", t0 + 1_000, 9),
      ]);
      expect((await collect("cus_a", t0, t0 + 1_000)).flat()).toEqual(["0:0", "100:1", "300:3"]);
      expect((await collect("cus_b", t0, t0 + 1_000)).flat()).toEqual(["200:2"]);
      expect((await collect("cus_a", t0 + 101, t0 + 300)).flat()).toEqual([]);
      expect(await collect("cus_ghost", t0, t0 + 10_000)).toEqual([]);
    });

    it("batches large scans without losing or repeating an event, equal times included", async () => {
      const events = Array.from({ length: 25 }, (_, i) => event("cus_a", `r${i}`, t0 + Math.floor(i / 4), i));
      await h.addUsage(events);
      const batches = await collect("cus_a", t0, t0 + 100, 7);
      expect(batches.map((b) => b.length)).toEqual([7, 7, 7, 4]);
      const tokens = batches.flat().map((s) => Number(s.split(":")[1]));
      expect([...tokens].sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i));
      const times = batches.flat().map((s) => Number(s.split(":")[0]));
      expect(times).toEqual([...times].sort((a, b) => a - b));
    });

    it("scanPeriod (where implemented) yields every customer's events in range, each exactly once", async () => {
      const scanPeriod = h.billing.usage.scanPeriod?.bind(h.billing.usage);
      if (!scanPeriod) return;
      const events = Array.from({ length: 40 }, (_, i) =>
        event(i % 3 === 0 ? "cus_b" : "cus_a", `p${i}`, t0 + ((i * 37) % 50), i),
      );
      await h.addUsage(events);
      const seen: string[] = [];
      for await (const batch of scanPeriod({ fromMs: t0 + 10, toMs: t0 + 40, batchSize: 6 })) {
        expect(batch.length).toBeLessThanOrEqual(6);
        for (const e of batch) seen.push(`${e.customerId}:${e.tokens}`);
      }
      const expected = events
        .filter((e) => e.occurredAt >= t0 + 10 && e.occurredAt < t0 + 40)
        .map((e) => `${e.customerId}:${e.tokens}`);
      expect(seen.sort()).toEqual(expected.sort());
      expect(expected.length).toBeGreaterThan(10);
      const none = [];
      for await (const batch of scanPeriod({ fromMs: t0 + 1_000, toMs: t0 + 2_000 })) none.push(...batch);
      expect(none).toEqual([]);
    });

    it("lists the customers with usage in a range", async () => {
      await h.addUsage([event("cus_b", "r1", t0 + 5), event("cus_a", "r2", t0 + 50)]);
      expect(await h.billing.usage.customersWithUsage({ fromMs: t0, toMs: t0 + 100 })).toEqual(["cus_a", "cus_b"]);
      expect(await h.billing.usage.customersWithUsage({ fromMs: t0 + 6, toMs: t0 + 100 })).toEqual(["cus_a"]);
      expect(await h.billing.usage.customersWithUsage({ fromMs: t0 + 51, toMs: t0 + 100 })).toEqual([]);
    });

    it("returns the rated fields billing needs, unchanged", async () => {
      const e = { ...event("cus_a", "r1", t0 + 7, 1234), peak: true, multiplierBp: 15_000, amountMicros: 37_020 };
      await h.addUsage([e]);
      const [batch] = await (async () => {
        const out = [];
        for await (const b of h.billing.usage.scan({ customerId: "cus_a", fromMs: t0, toMs: t0 + 10 })) out.push(b);
        return out;
      })();
      expect(batch?.[0]).toMatchObject({
        customerId: "cus_a",
        planId: "basic",
        priceVersionId: e.priceVersionId,
        occurredAt: t0 + 7,
        tokens: 1234,
        peak: true,
        multiplierBp: 15_000,
        amountMicros: 37_020,
        currency: "USD",
      });
    });
  });
}
