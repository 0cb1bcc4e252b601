import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { priceTokens } from "../../../billing/src/rating/rate.ts";
import type { Stores, UsageEvent, UsageReports } from "./ports.ts";
import {
  type ContractOptions,
  ManualClock,
  type Seeded,
  type StoreHarness,
  seedCustomer,
  usageEvent,
} from "./testing/harness.ts";
import { DAY_MS, repriceTokenCounts, utcDay } from "./usage-reports.ts";

/** A small deterministic PRNG (mulberry32), so a failure replays. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * The UsageReports contract: after random appends (with folds in between, retried request ids, ranges that start and
 * end mid-day), every report equals what the ledger's own events give, to the micro-unit, and re-pricing from the
 * token counts equals rating each event.
 */
export function runUsageReportsContract({ name, make }: ContractOptions): void {
  describe(`UsageReports contract (${name})`, () => {
    let harness: StoreHarness;
    let stores: Stores;
    let reports: UsageReports;
    let seeds: Seeded[];
    const t0 = Date.UTC(2026, 0, 28, 5, 30);

    beforeEach(async () => {
      const clock = new ManualClock(t0);
      harness = await make(clock);
      stores = harness.stores;
      if (!stores.reports) throw new Error(`${name}: no reports`);
      reports = stores.reports;
      seeds = [
        await seedCustomer(stores, clock, { customerId: "cus_a", planId: "basic" }),
        await seedCustomer(stores, clock, { customerId: "cus_b", planId: "basic" }),
        await seedCustomer(stores, clock, { customerId: "cus_c", planId: "other", currency: "EUR" }),
      ];
    });
    afterEach(async () => {
      await harness.close?.();
    });

    /** Appends `n` random events in random batches, folding now and then; returns every event that counts. */
    async function appendRandom(random: () => number, n: number, from: number, spanMs: number): Promise<UsageEvent[]> {
      const kept: UsageEvent[] = [];
      let i = 0;
      while (i < n) {
        const batch: UsageEvent[] = [];
        for (let b = Math.floor(random() * 20) + 1; b > 0 && i < n; b--, i++) {
          const seed = seeds[Math.floor(random() * seeds.length)] as Seeded;
          const tokens = Math.floor(random() * 3_000);
          const peak = random() < 0.3;
          const e = usageEvent(seed, {
            requestId: `req_${i}`,
            occurredAt: from + Math.floor(random() * spanMs),
            tokens,
            audioMs: tokens * 20,
            inputChars: Math.floor(random() * 500),
            peak,
            multiplierBp: peak ? 15_000 : 10_000,
            amountMicros: priceTokens({
              tokens,
              plan: "basic",
              peak,
              version: { unitPriceMicrosPer1k: 1_633, peakMultiplierBp: 15_000, batchDiscountBp: 0 },
            }).amountMicros,
          });
          batch.push(e);
          kept.push(e);
        }
        // a retried append of an earlier event: ignored by the ledger, so never in the rollups twice
        if (kept.length > 1 && random() < 0.3) batch.push(kept[Math.floor(random() * (kept.length - 1))] as UsageEvent);
        await stores.ledger.append(batch);
        if (random() < 0.2) await reports.catchUp();
      }
      return kept;
    }

    const inRange = (events: UsageEvent[], fromMs: number, toMs: number) =>
      events.filter((e) => e.occurredAt >= fromMs && e.occurredAt < toMs);

    it("agrees exactly with the ledger after random appends, for ranges on and off day boundaries", async () => {
      const random = prng(17);
      const events = await appendRandom(random, 1_500, t0, 70 * DAY_MS);
      const ranges: [number, number][] = [
        [t0, t0 + 70 * DAY_MS],
        [Date.UTC(2026, 1, 1), Date.UTC(2026, 2, 1)],
        [t0 + 3_600_000, t0 + 3 * 3_600_000],
        [t0 + 17, t0 + 17],
      ];
      for (let r = 0; r < 12; r++) {
        const a = t0 + Math.floor(random() * 70 * DAY_MS);
        ranges.push([a, a + Math.floor(random() * 40 * DAY_MS)]);
      }
      for (const [fromMs, toMs] of ranges) {
        for (const byPlan of [false, true]) {
          expect(await reports.totals({ fromMs, toMs, byPlan })).toEqual(
            await stores.ledger.totals({ fromMs, toMs, byPlan }),
          );
        }
        const expectedDays = new Map<
          string,
          { events: number; tokens: number; peakTokens: number; amountMicros: number }
        >();
        for (const e of inRange(events, fromMs, toMs)) {
          const key = `${utcDay(Math.floor(e.occurredAt / DAY_MS) * DAY_MS)}|${e.planId}|${e.currency}`;
          const d = expectedDays.get(key) ?? { events: 0, tokens: 0, peakTokens: 0, amountMicros: 0 };
          d.events += 1;
          d.tokens += e.tokens;
          d.peakTokens += e.peak ? e.tokens : 0;
          d.amountMicros += e.amountMicros;
          expectedDays.set(key, d);
        }
        const days = await reports.byDay({ fromMs, toMs });
        expect(new Map(days.map(({ day, planId, currency, ...d }) => [`${day}|${planId}|${currency}`, d]))).toEqual(
          expectedDays,
        );
        expect(days.map((d) => d.day)).toEqual([...days.map((d) => d.day)].sort());

        const perCustomerTotals = await reports.customerTotals({
          customerIds: ["cus_c", "cus_a", "cus_nobody"],
          fromMs,
          toMs,
        });
        const expectedPerCustomer = [];
        for (const customerId of ["cus_a", "cus_c"]) {
          for (const t of await stores.ledger.totals({ customerId, fromMs, toMs, byPlan: true })) {
            expectedPerCustomer.push({ customerId, ...t });
          }
        }
        expect(perCustomerTotals).toEqual(expectedPerCustomer);
        const top = await reports.topCustomers({ fromMs, toMs, limit: 2 });
        const perCustomer = new Map<string, number>();
        for (const e of inRange(events, fromMs, toMs)) {
          perCustomer.set(
            `${e.customerId}|${e.currency}`,
            (perCustomer.get(`${e.customerId}|${e.currency}`) ?? 0) + e.amountMicros,
          );
        }
        const expectedTop = [...perCustomer.entries()]
          .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
          .slice(0, 2);
        expect(top.map((t) => [`${t.customerId}|${t.currency}`, t.amountMicros])).toEqual(expectedTop);
      }
    });

    it("re-prices the token counts exactly as rating each event would, under any version", async () => {
      const random = prng(5);
      const events = await appendRandom(random, 800, t0, 40 * DAY_MS);
      const fromMs = Date.UTC(2026, 1, 1) - 8 * 3_600_000; // a local month in UTC+8 starts mid-day in UTC
      const toMs = Date.UTC(2026, 2, 1) - 8 * 3_600_000;
      const counts = await reports.tokenCounts({ planId: "basic", fromMs, toMs });
      const mine = inRange(events, fromMs, toMs).filter((e) => e.planId === "basic");
      expect(counts.reduce((s, c) => s + c.events, 0)).toBe(mine.length);
      for (const version of [
        { unitPriceMicrosPer1k: 1_633, peakMultiplierBp: 15_000, batchDiscountBp: 0 },
        { unitPriceMicrosPer1k: 2_777, peakMultiplierBp: 13_333, batchDiscountBp: 2_501 },
        { unitPriceMicrosPer1k: 1, peakMultiplierBp: 10_000, batchDiscountBp: 9_999 },
      ]) {
        for (const plan of ["basic", "batch", "enterprise"] as const) {
          const perEvent = mine.reduce(
            (s, e) => s + priceTokens({ tokens: e.tokens, plan, version, peak: e.peak }).amountMicros,
            0,
          );
          expect(repriceTokenCounts(counts, plan, "USD", version)).toBe(perEvent);
        }
      }
      // with the recording version, the re-priced amount is exactly what the ledger charged
      const charged = (await stores.ledger.totals({ fromMs, toMs, byPlan: true })).find((t) => t.planId === "basic");
      expect(
        repriceTokenCounts(counts, "basic", "USD", {
          unitPriceMicrosPer1k: 1_633,
          peakMultiplierBp: 15_000,
          batchDiscountBp: 0,
        }),
      ).toBe(charged?.amountMicros);
    });

    it("folds idempotently: a second catch-up adds nothing, and later appends are picked up", async () => {
      const random = prng(9);
      await appendRandom(random, 300, t0, 10 * DAY_MS);
      await reports.catchUp();
      expect(await reports.catchUp()).toBe(0);
      const range = { fromMs: t0, toMs: t0 + 20 * DAY_MS };
      const before = await reports.totals(range);
      expect(before).toEqual(await stores.ledger.totals(range));
      const seed = seeds[0] as Seeded;
      await stores.ledger.append([usageEvent(seed, { requestId: "req_late", occurredAt: t0 + 2 * DAY_MS, tokens: 7 })]);
      expect(await reports.totals(range)).toEqual(await stores.ledger.totals(range));
      expect(await reports.totals(range)).not.toEqual(before);
    });
  });
}
