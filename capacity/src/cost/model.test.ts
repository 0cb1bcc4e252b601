import { describe, expect, it } from "vitest";
import { rateUsage } from "../../../billing/src/rating/rate.ts";
import { Q } from "../core/rational.ts";
import { approxMoney, articleCheck, money } from "./format.ts";
import { type CostInputs, computeCost } from "./model.ts";
import { buildCostInputs, DEFAULT_COST_OPTIONS } from "./options.ts";

const base: CostInputs = {
  currency: "USD",
  gpuPrice: Q.parse("1500"),
  lifetimeYears: Q.parse("3"),
  power: {
    kind: "watts",
    watts: Q.parse("350"),
    source: "nameplate",
    pricePerKwh: Q.parse("0.15"),
    pue: Q.parse("1.2"),
  },
  opsCostPerDay: Q.parse("1"),
  throughput: { kind: "measured", capacityTokensPerSecond: Q.parse("500"), targetUtilisation: Q.parse("0.5") },
  margin: Q.parse("0.5"),
  batchDiscount: Q.parse("0.35"),
  peak: { kind: "measured", peakMsPerToken: 56, offPeakMsPerToken: 24, peakLoad: "20 users", offPeakLoad: "5 users" },
};

describe("the cost model", () => {
  it("reproduces the article's example: ≈ ¥14/day and ≈ ¥0.14 per MILLION tokens (not per 10k)", () => {
    const { result: r, lines } = articleCheck();
    expect(approxMoney(r.perDay.totalMicros, "CNY")).toBe("¥14");
    expect(r.perDay.totalMicros).toBe(13_958_904); // 12000 / 1095 + 3
    expect(r.cost.per1MTokensMicros).toBe(139_589);
    expect(approxMoney(r.cost.per1MTokensMicros, "CNY")).toBe("¥0.14");
    expect(r.cost.per10kTokensMicros).toBe(1_396);
    expect(lines.join(" ")).toContain("slipped a unit (×100)");
  });

  it("derives power, throughput and every price from the inputs", () => {
    const r = computeCost(base);
    // 350 W × 24 h = 8.4 kWh × 0.15 × 1.2 = 1.512 per day
    expect(r.perDay.powerMicros).toBe(1_512_000);
    expect(r.perDay.gpuMicros).toBe(1_369_863);
    expect(r.perDay.totalMicros).toBe(3_881_863);
    // 500 tokens/s × 86,400 × 0.5
    expect(r.tokensPerDay).toBe(21_600_000);
    // 3.881863… / 21.6 M tokens × 1000 = 0.0001797… → 180 micros
    expect(r.cost.per1kTokensMicros).toBe(180);
    expect(r.basic.per1kTokensMicros).toBe(270);
    // an audio minute is 3,000 tokens
    expect(r.cost.perAudioMinuteMicros).toBe(539);
    // 56 / 24 = 2.333…
    expect(r.peak.multiplierBp).toBe(23_333);
    expect(r.batch.discountBp).toBe(3_500);
    expect(r.batch.per1kTokensMicros).toBeLessThanOrEqual(Math.floor(r.basic.per1kTokensMicros * 0.7));
    // batch work runs the GPU at capacity (utilisation 1): half the cost per token of the 50 % target
    expect(r.batchCost.per1kTokensMicros).toBe(90);
    expect(r.warnings).toEqual([]);
    expect(
      computeCost({ ...base, margin: Q.of(0), throughput: { kind: "given", tokensPerDay: Q.of(1_000_000) } }).warnings,
    ).toHaveLength(1);
    // a dedicated GPU pays for its idle time too: the whole monthly cost, with the margin
    expect(r.enterprise.monthlyCostMicros).toBe(118_073_333);
    expect(r.enterprise.monthlyFeeMicros).toBe(177_110_000); // 177.109999… up to whole cents
    expect(computeCost({ ...base, currency: "JPY" }).enterprise.monthlyFeeMicros % 1_000_000).toBe(0); // whole yen
    expect(r.enterprise.includedTokens).toBe(657_000_000);
  });

  it("batch is at least 30 % below basic even when asked for less", () => {
    expect(() => buildCostInputs({ ...DEFAULT_COST_OPTIONS, batchDiscount: "0.2", tokensPerDay: "1" }, none)).toThrow(
      /0.30/,
    );
    const r = computeCost({ ...base, batchDiscount: Q.parse("0.1") });
    expect(r.batch.discountBp).toBe(3_000);
  });

  it("prices that the billing rater charges as intended (integer micros, peak surcharge, batch discount)", () => {
    const r = computeCost(base);
    const version = {
      unitPriceMicrosPer1k: r.basic.per1kTokensMicros,
      peakMultiplierBp: r.peak.multiplierBp,
      batchDiscountBp: r.batch.discountBp,
      peakWindows: [{ days: [0, 1, 2, 3, 4, 5, 6], start: "00:00", end: "23:59" }],
      timeZone: "UTC",
    };
    const peak = rateUsage({ tokens: 10_000, plan: "basic", version, atMs: Date.UTC(2026, 0, 5, 12) });
    expect(peak.amountMicros).toBe(Math.round((2_700 * 23_333) / 10_000));
    const batch = rateUsage({ tokens: 10_000, plan: "batch", version, atMs: Date.UTC(2026, 0, 5, 12) });
    expect(batch.amountMicros).toBeLessThanOrEqual(0.7 * 2_700);
  });

  it("the peak multiplier is never below ×1 nor above ×3, and says when it is assumed", () => {
    const measured = (peakMsPerToken: number, offPeakMsPerToken: number) =>
      ({ kind: "measured", peakMsPerToken, offPeakMsPerToken, peakLoad: "a", offPeakLoad: "b" }) as const;
    const low = computeCost({ ...base, peak: measured(10, 20) });
    expect(low.peak.multiplierBp).toBe(10_000);
    const high = computeCost({ ...base, peak: measured(400, 20) });
    expect(high.peak.multiplierBp).toBe(30_000);
    const assumed = computeCost({ ...base, peak: { kind: "assumed", multiplierBp: 15_000 } });
    expect(assumed.peak.note).toContain("assumed");
  });

  it("refuses what cannot be priced", () => {
    expect(() => computeCost({ ...base, lifetimeYears: Q.of(0) })).toThrow(/lifetime/);
    expect(() => buildCostInputs({ ...DEFAULT_COST_OPTIONS }, none)).toThrow(/tokens-per-day/);
    expect(() => buildCostInputs({ ...DEFAULT_COST_OPTIONS, currency: "USD", tokensPerDay: "1" }, none)).toThrow(
      /gpu-price/,
    );
  });

  it("formats money from micros", () => {
    expect(money(1_234_567_891, "USD")).toBe("$1,234.57");
    expect(money(139_589, "CNY", 4)).toBe("¥0.1396");
    expect(money(5, "EUR", 6)).toBe("€0.000005");
    expect(money(1_000_000, "CHF")).toBe("CHF 1.00");
  });
});

const none = { capacityTokensPerSecond: null, measuredWatts: null, peak: null };
