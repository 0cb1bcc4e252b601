import { describe, expect, test } from "vitest";
import type { Plan, PriceVersion } from "../../proxy/src/store/ports.ts";
import { aggregateUsage, type BillableEvent } from "./aggregate.ts";
import { PriceBook } from "./price-book.ts";
import { rateUsage } from "./rating/rate.ts";

const T0 = Date.UTC(2026, 0, 1);
const PEAK = [{ days: [1, 2, 3, 4, 5], start: "09:00", end: "18:00" }];
/** UTC plans: Monday 2026-01-05 10:00 is peak, 20:00 is not; Saturday 2026-01-10 10:00 is not. */
const MON_PEAK = Date.UTC(2026, 0, 5, 10);
const MON_NIGHT = Date.UTC(2026, 0, 5, 20);
const SAT_DAY = Date.UTC(2026, 0, 10, 10);
const LATER = Date.UTC(2026, 0, 20, 20);

const plan = (id: string, kind: Plan["kind"], currency = "USD"): Plan => ({
  id,
  kind,
  name: id,
  currency,
  timeZone: "UTC",
  requestsPerSecond: 1,
  burst: 1,
  maxInFlight: 1,
  createdAt: T0,
});

const version = (planId: string, n: number, effectiveFrom: number, v: Partial<PriceVersion> = {}): PriceVersion => ({
  id: `pv_${planId}_${n}`,
  planId,
  version: n,
  effectiveFrom,
  unitPriceMicrosPer1kTokens: 20_000,
  peakWindows: PEAK,
  peakMultiplierBp: 15_000,
  batchDiscountBp: 3_500,
  monthlyFeeMicros: 0,
  includedTokens: 0,
  overagePriceMicrosPer1kTokens: null,
  stripeProductId: null,
  stripePriceId: null,
  createdAt: T0,
  ...v,
});

const PLANS = [plan("basic", "basic"), plan("batch", "batch"), plan("ent", "enterprise"), plan("eur", "basic", "EUR")];
const VERSIONS = [
  version("basic", 1, T0),
  version("basic", 2, Date.UTC(2026, 0, 15), { unitPriceMicrosPer1kTokens: 30_000, peakMultiplierBp: 20_000 }),
  version("batch", 1, T0),
  version("ent", 1, T0, {
    monthlyFeeMicros: 2_000_000_000,
    includedTokens: 1_000,
    overagePriceMicrosPer1kTokens: 10_000,
  }),
  version("ent", 2, Date.UTC(2026, 0, 15), { includedTokens: 5_000, overagePriceMicrosPer1kTokens: 12_000 }),
  version("eur", 1, T0),
];
const book = new PriceBook(PLANS, VERSIONS);

/** An event rated the way the proxy rates it: the version in force at its time. */
function metered(planId: string, at: number, tokens: number, overrides: Partial<BillableEvent> = {}): BillableEvent {
  const p = book.plan(planId) as Plan;
  const v = book.versionAt(planId, at) as PriceVersion;
  const rated = rateUsage({
    tokens,
    plan: p.kind,
    atMs: at,
    version: {
      unitPriceMicrosPer1k: v.unitPriceMicrosPer1kTokens,
      peakMultiplierBp: v.peakMultiplierBp,
      batchDiscountBp: v.batchDiscountBp,
      peakWindows: v.peakWindows,
      timeZone: p.timeZone,
    },
  });
  return {
    customerId: "cus_1",
    planId,
    priceVersionId: v.id,
    occurredAt: at,
    tokens,
    peak: rated.peak,
    multiplierBp: rated.multiplierBp,
    amountMicros: rated.amountMicros,
    currency: p.currency,
    ...overrides,
  };
}

const JAN = { customerId: "cus_1", fromMs: T0, toMs: Date.UTC(2026, 1, 1) };
const lines = (events: BillableEvent[]) =>
  aggregateUsage(book, JAN, events).lines.map((l) => [l.key, l.tokens, l.amountMicros, l.multiplierBp, l.discountBp]);

describe("aggregation into invoice lines (table)", () => {
  const cases: { name: string; events: () => BillableEvent[]; expected: (string | number)[][] }[] = [
    {
      name: "basic: off-peak at the list price, peak with the ×1.5 multiplier, on separate lines",
      events: () => [
        metered("basic", MON_NIGHT, 1_000),
        metered("basic", MON_PEAK, 1_000),
        metered("basic", SAT_DAY, 500),
      ],
      expected: [
        ["offpeak:basic:v1", 1_500, 30_000, 10_000, 0],
        ["peak:basic:v1", 1_000, 30_000, 15_000, 0],
      ],
    },
    {
      name: "batch: 35 % below basic and no peak surcharge (peak time costs the same as off-peak)",
      events: () => [metered("batch", MON_PEAK, 1_000), metered("batch", MON_NIGHT, 1_000)],
      expected: [["batch:batch:v1", 2_000, 26_000, 10_000, 3_500]],
    },
    {
      name: "enterprise: included tokens first, then overage at the overage price (fee is the subscription's)",
      events: () => [metered("ent", MON_PEAK, 600), metered("ent", MON_NIGHT, 600)],
      expected: [
        ["included:ent:v1", 1_000, 0, 10_000, 0],
        ["overage:ent:v1", 200, 2_000, 10_000, 0],
      ],
    },
    {
      name: "enterprise across a price change: allowance of the period's version, overage at each event's version",
      events: () => [metered("ent", MON_NIGHT, 900), metered("ent", SAT_DAY, 200), metered("ent", LATER, 300)],
      expected: [
        ["included:ent:v1", 1_000, 0, 10_000, 0],
        ["overage:ent:v1", 100, 1_000, 10_000, 0],
        ["overage:ent:v2", 300, 3_600, 10_000, 0],
      ],
    },
    {
      name: "the version in force at each event's time: v1 before the 15th, v2 (30,000, ×2) after",
      events: () => [
        metered("basic", MON_NIGHT, 1_000),
        metered("basic", LATER, 1_000),
        metered("basic", Date.UTC(2026, 0, 19, 10), 1_000),
      ],
      expected: [
        ["offpeak:basic:v1", 1_000, 20_000, 10_000, 0],
        ["offpeak:basic:v2", 1_000, 30_000, 10_000, 0],
        ["peak:basic:v2", 1_000, 60_000, 20_000, 0],
      ],
    },
    { name: "no usage, no lines", events: () => [], expected: [] },
  ];
  for (const { name, events, expected } of cases) test(name, () => expect(lines(events())).toEqual(expected));

  test("batch is at least 30 % below basic at every version of the default prices", async () => {
    const { createMemoryStores } = await import("../../proxy/src/store/memory/index.ts");
    const { ensureDefaultPlans } = await import("../../proxy/src/bootstrap.ts");
    const stores = createMemoryStores();
    await ensureDefaultPlans(stores);
    const defaults = await PriceBook.load(stores.plans);
    const basic = defaults.versions("basic")[0] as PriceVersion;
    const batch = defaults.versions("batch")[0] as PriceVersion;
    const at = Date.UTC(2030, 0, 7, 10); // a weekday at 10:00 UTC: peak
    const rate = (p: "basic" | "batch", v: PriceVersion) =>
      rateUsage({
        tokens: 1_000_000,
        plan: p,
        atMs: at,
        version: {
          unitPriceMicrosPer1k: v.unitPriceMicrosPer1kTokens,
          peakMultiplierBp: v.peakMultiplierBp,
          batchDiscountBp: v.batchDiscountBp,
          peakWindows: v.peakWindows,
          timeZone: "UTC",
        },
      }).amountMicros;
    const offPeakBasic = basic.unitPriceMicrosPer1kTokens * 1_000;
    expect(rate("batch", batch)).toBeLessThanOrEqual(offPeakBasic * 0.7);
    expect(rate("basic", basic)).toBe(offPeakBasic * 1.5); // peak surcharge on basic …
    expect(rate("batch", batch)).toBe(batch.unitPriceMicrosPer1kTokens * 1_000 * 0.65); // … none on batch
  });

  test("a price change never reprices old usage: adding versions later leaves the lines of past events as they were", () => {
    const events = [metered("basic", MON_NIGHT, 1_000), metered("basic", MON_PEAK, 777)];
    const before = aggregateUsage(book, JAN, events);
    const later = new PriceBook(PLANS, [
      ...VERSIONS,
      version("basic", 3, Date.UTC(2026, 0, 25), { unitPriceMicrosPer1kTokens: 99_999, peakMultiplierBp: 30_000 }),
    ]);
    const after = aggregateUsage(later, JAN, events);
    expect(after.lines).toEqual(before.lines);
    expect(after.drift).toEqual([]);
  });

  test("line amounts are the ledger's (each event rounded once, when rated), and sum exactly", () => {
    // 1 token at 20,000/1k at peak is 30 micros; 333 of them: 9,990 — never 333 × a rounded per-token price.
    const events = Array.from({ length: 333 }, (_, i) => metered("basic", MON_PEAK + i, 1));
    const r = aggregateUsage(book, JAN, events);
    expect(r.amountMicros).toBe(9_990);
    expect(r.amountMicros).toBe(events.reduce((s, e) => s + e.amountMicros, 0));
  });

  describe("drift is named, never silently billed", () => {
    test("an amount the re-rating disagrees with (the ledger amount is what is billed)", () => {
      const r = aggregateUsage(book, JAN, [metered("basic", MON_NIGHT, 1_000, { amountMicros: 20_001 })]);
      expect(r.amountMicros).toBe(20_001);
      expect(r.drift).toEqual([expect.objectContaining({ code: "rerated_amount_differs", events: 1, micros: 1 })]);
    });
    test("an event rated with a version that was not in force at its time", () => {
      const r = aggregateUsage(book, JAN, [
        metered("basic", LATER, 1_000, { priceVersionId: "pv_basic_1", amountMicros: 20_000 }),
      ]);
      expect(r.drift.map((d) => d.code)).toEqual(["version_not_in_force"]);
    });
    test("usage in two currencies blocks the period", () => {
      const r = aggregateUsage(book, JAN, [metered("basic", MON_NIGHT, 10), metered("eur", MON_NIGHT, 10)]);
      expect(r).toMatchObject({ blocked: true, currency: null });
      expect(r.drift.map((d) => d.code)).toContain("mixed_currencies");
    });
    test("an unknown price version blocks the period", () => {
      const r = aggregateUsage(book, JAN, [metered("basic", MON_NIGHT, 10, { priceVersionId: "pv_gone" })]);
      expect(r.blocked).toBe(true);
    });
  });
});
