import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Stores } from "./ports.ts";
import {
  type ContractOptions,
  ManualClock,
  type Seeded,
  type StoreHarness,
  seedCustomer,
  usageEvent,
} from "./testing/harness.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The UsageLedger contract: every implementation must pass it. */
export function runUsageLedgerContract({ name, make }: ContractOptions): void {
  describe(`UsageLedger contract (${name})`, () => {
    let clock: ManualClock;
    let harness: StoreHarness;
    let stores: Stores;
    let seed: Seeded;
    const t0 = Date.UTC(2026, 2, 1);

    beforeEach(async () => {
      clock = new ManualClock(t0);
      harness = await make(clock);
      stores = harness.stores;
      seed = await seedCustomer(stores, clock);
    });
    afterEach(async () => {
      await harness.close?.();
    });

    const totalsOf = async (customerId?: string) =>
      stores.ledger.totals({ ...(customerId ? { customerId } : {}), fromMs: t0, toMs: t0 + 365 * DAY });

    it("appends events and reports each as inserted", async () => {
      const outcomes = await stores.ledger.append([
        usageEvent(seed, { requestId: "req_1" }),
        usageEvent(seed, { requestId: "req_2" }),
      ]);
      expect(outcomes).toEqual([{ inserted: true }, { inserted: true }]);
      expect((await totalsOf(seed.customer.id))[0]?.events).toBe(2);
    });

    it("ignores a request id appended again later, and does not count it twice", async () => {
      await stores.ledger.append([usageEvent(seed, { requestId: "req_1", tokens: 100, amountMicros: 7 })]);
      const again = await stores.ledger.append([
        usageEvent(seed, { requestId: "req_1", tokens: 999, amountMicros: 999 }),
      ]);
      expect(again).toEqual([{ inserted: false }]);
      expect(await totalsOf(seed.customer.id)).toEqual([
        { currency: "USD", events: 1, tokens: 100, peakTokens: 0, audioMs: 1_000, inputChars: 12, amountMicros: 7 },
      ]);
    });

    it("ignores a request id repeated within one append: the first one counts", async () => {
      const outcomes = await stores.ledger.append([
        usageEvent(seed, { requestId: "req_1", tokens: 10 }),
        usageEvent(seed, { requestId: "req_2", tokens: 20 }),
        usageEvent(seed, { requestId: "req_1", tokens: 30 }),
      ]);
      expect(outcomes.map((o) => o.inserted)).toEqual([true, true, false]);
      expect((await totalsOf(seed.customer.id))[0]?.tokens).toBe(30);
    });

    it("sums money exactly in integers, even past 2^32 and with many small amounts", async () => {
      const big = 2 ** 40 + 7; // micro-units: about 1.1 million currency units
      const events = [usageEvent(seed, { requestId: "big", amountMicros: big, tokens: 2 ** 33 })];
      for (let i = 0; i < 1_000; i++) events.push(usageEvent(seed, { requestId: `small_${i}`, amountMicros: 3 }));
      await stores.ledger.append(events);
      const [totals] = await totalsOf(seed.customer.id);
      expect(totals?.amountMicros).toBe(big + 3_000);
      expect(totals?.tokens).toBe(2 ** 33 + 25 * 1_000);
      expect(Number.isSafeInteger(totals?.amountMicros)).toBe(true);
    });

    it("keeps currencies apart and totals across customers when no customer is given", async () => {
      const eur = await seedCustomer(stores, clock, { planId: "basic-eur", customerId: "cus_b", currency: "EUR" });
      await stores.ledger.append([
        usageEvent(seed, { requestId: "usd_1", amountMicros: 100, peak: true, multiplierBp: 15_000 }),
        usageEvent(seed, { requestId: "usd_2", amountMicros: 50 }),
        usageEvent(eur, { requestId: "eur_1", amountMicros: 70 }),
      ]);
      const all = await totalsOf();
      expect(all.map((t) => [t.currency, t.events, t.amountMicros, t.peakTokens])).toEqual([
        ["EUR", 1, 70, 0],
        ["USD", 2, 150, 25],
      ]);
      expect((await totalsOf("cus_b")).map((t) => t.currency)).toEqual(["EUR"]);
    });

    it("splits days and totals by plan: a customer whose plan changed has usage under each", async () => {
      const pro = await seedCustomer(stores, clock, { planId: "pro", customerId: "cus_a2" });
      // The same customer, charged under "pro" from midday on (its events name the plan they were charged under).
      const later = { ...pro, customer: seed.customer, key: seed.key };
      const midday = t0 + 12 * HOUR;
      await stores.ledger.append([
        usageEvent(seed, { requestId: "b1", occurredAt: t0 + HOUR, tokens: 10, amountMicros: 100 }),
        usageEvent(seed, { requestId: "b2", occurredAt: t0 + 2 * HOUR, tokens: 20, amountMicros: 200, peak: true }),
        usageEvent(later, { requestId: "p1", occurredAt: midday, tokens: 40, amountMicros: 400 }),
        usageEvent(later, { requestId: "p2", occurredAt: midday + HOUR, tokens: 80, amountMicros: 800, peak: true }),
        usageEvent(later, { requestId: "p3", occurredAt: midday + DAY, tokens: 160, amountMicros: 1_600 }),
      ]);
      const days = await stores.ledger.usageByDay({ customerId: seed.customer.id, fromMs: t0, toMs: t0 + 3 * DAY });
      expect(days.map((d) => [d.day, d.planId, d.peak, d.events, d.tokens, d.amountMicros])).toEqual([
        ["2026-03-01", "basic", false, 1, 10, 100],
        ["2026-03-01", "basic", true, 1, 20, 200],
        ["2026-03-01", "pro", false, 1, 40, 400],
        ["2026-03-01", "pro", true, 1, 80, 800],
        ["2026-03-02", "pro", false, 1, 160, 1_600],
      ]);
      const range = { customerId: seed.customer.id, fromMs: t0, toMs: t0 + 3 * DAY };
      expect(await stores.ledger.totals({ ...range, byPlan: true })).toEqual([
        {
          planId: "basic",
          currency: "USD",
          events: 2,
          tokens: 30,
          peakTokens: 20,
          audioMs: 2_000,
          inputChars: 24,
          amountMicros: 300,
        },
        {
          planId: "pro",
          currency: "USD",
          events: 3,
          tokens: 280,
          peakTokens: 80,
          audioMs: 3_000,
          inputChars: 36,
          amountMicros: 2_800,
        },
      ]);
      // Without byPlan: one row per currency, no planId.
      expect(await stores.ledger.totals(range)).toEqual([
        {
          currency: "USD",
          events: 5,
          tokens: 310,
          peakTokens: 100,
          audioMs: 5_000,
          inputChars: 60,
          amountMicros: 3_100,
        },
      ]);
      // Across customers, by plan.
      expect(
        (await stores.ledger.totals({ fromMs: t0, toMs: t0 + 3 * DAY, byPlan: true })).map((t) => t.planId),
      ).toEqual(["basic", "pro"]);
    });

    it("reads ranges as half-open [from, to)", async () => {
      await stores.ledger.append([
        usageEvent(seed, { requestId: "at_from", occurredAt: t0 + HOUR }),
        usageEvent(seed, { requestId: "at_to", occurredAt: t0 + 2 * HOUR }),
      ]);
      const totals = await stores.ledger.totals({
        customerId: seed.customer.id,
        fromMs: t0 + HOUR,
        toMs: t0 + 2 * HOUR,
      });
      expect(totals[0]?.events).toBe(1);
      expect(await stores.ledger.totals({ fromMs: t0 + 3 * HOUR, toMs: t0 + 4 * HOUR })).toEqual([]);
    });

    it("groups usage by the customer's local day: a boundary at local midnight, not UTC midnight", async () => {
      // Asia/Shanghai is UTC+8: local midnight of 2 March is 16:00 UTC on 1 March.
      const localMidnight = Date.UTC(2026, 2, 1, 16, 0, 0);
      await stores.ledger.append([
        usageEvent(seed, { requestId: "before", occurredAt: localMidnight - 1, tokens: 1, amountMicros: 10 }),
        usageEvent(seed, { requestId: "at", occurredAt: localMidnight, tokens: 2, amountMicros: 20 }),
        usageEvent(seed, { requestId: "later", occurredAt: localMidnight + 7 * HOUR, tokens: 4, amountMicros: 40 }),
        usageEvent(seed, { requestId: "peak", occurredAt: localMidnight + 9 * HOUR, tokens: 8, peak: true }),
      ]);
      const range = { customerId: seed.customer.id, fromMs: t0, toMs: t0 + 3 * DAY };
      const shanghai = await stores.ledger.usageByDay({ ...range, timeZone: "Asia/Shanghai" });
      expect(shanghai.map((d) => [d.day, d.peak, d.events, d.tokens, d.amountMicros])).toEqual([
        ["2026-03-01", false, 1, 1, 10],
        ["2026-03-02", false, 2, 6, 60],
        ["2026-03-02", true, 1, 8, 50],
      ]);
      // The same events in UTC: all but "peak" fall on 1 March.
      const utc = await stores.ledger.usageByDay(range);
      expect(utc.map((d) => [d.day, d.peak, d.events])).toEqual([
        ["2026-03-01", false, 3],
        ["2026-03-02", true, 1],
      ]);
    });

    it("finds local days across a daylight-saving change", async () => {
      // New York moves from UTC-5 to UTC-4 on 8 March 2026; local midnight of 9 March is 04:00 UTC.
      const midnight9 = Date.UTC(2026, 2, 9, 4, 0, 0);
      await stores.ledger.append([
        usageEvent(seed, { requestId: "a", occurredAt: midnight9 - 1 }),
        usageEvent(seed, { requestId: "b", occurredAt: midnight9 }),
      ]);
      const days = await stores.ledger.usageByDay({
        customerId: seed.customer.id,
        fromMs: t0,
        toMs: t0 + 30 * DAY,
        timeZone: "America/New_York",
      });
      expect(days.map((d) => d.day)).toEqual(["2026-03-08", "2026-03-09"]);
    });

    it("keeps each row's source (api when not given) and splits days by source only when asked", async () => {
      await stores.ledger.append([
        usageEvent(seed, { requestId: "plain", tokens: 1, amountMicros: 10 }),
        usageEvent(seed, { requestId: "api", source: "api", tokens: 2, amountMicros: 20 }),
        usageEvent(seed, { requestId: "play", source: "playground", tokens: 4, amountMicros: 40 }),
        usageEvent(seed, { requestId: "job", source: "job", tokens: 8, amountMicros: 80, priority: "batch" }),
      ]);
      const range = { customerId: seed.customer.id, fromMs: t0, toMs: t0 + DAY };
      const split = await stores.ledger.usageByDay({ ...range, bySource: true });
      expect(split.map((d) => [d.source, d.events, d.tokens, d.amountMicros])).toEqual([
        ["api", 2, 3, 30],
        ["job", 1, 8, 80],
        ["playground", 1, 4, 40],
      ]);
      // Without bySource, one row as before, with no source field.
      const whole = await stores.ledger.usageByDay(range);
      expect(whole).toEqual([
        {
          day: "2026-03-01",
          planId: "basic",
          peak: false,
          currency: "USD",
          events: 4,
          tokens: 15,
          audioMs: 4_000,
          amountMicros: 150,
        },
      ]);
      expect(await totalsOf(seed.customer.id)).toMatchObject([{ events: 4, amountMicros: 150 }]);
    });

    it("refuses an event with an unknown source", async () => {
      const bad = usageEvent(seed, { requestId: "bad", source: "console" as "api" });
      await expect(stores.ledger.append([bad])).rejects.toThrow(/source/);
      expect(await totalsOf(seed.customer.id)).toEqual([]);
    });

    it("refuses a whole append with a malformed event and writes none of it", async () => {
      const bad = [
        usageEvent(seed, { requestId: "good" }),
        usageEvent(seed, { requestId: "float_money", amountMicros: 1.5 }),
      ];
      await expect(stores.ledger.append(bad)).rejects.toThrow(/amountMicros/);
      expect(await totalsOf(seed.customer.id)).toEqual([]);
      // The rejected request id was not consumed: it can be appended once fixed.
      expect(await stores.ledger.append([usageEvent(seed, { requestId: "good" })])).toEqual([{ inserted: true }]);
    });

    it("appends nothing for an empty list", async () => {
      expect(await stores.ledger.append([])).toEqual([]);
    });
  });
}
