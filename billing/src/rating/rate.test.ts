import { describe, expect, test } from "vitest";
import {
  amountMicrosOf,
  divRoundHalfUp,
  type Plan,
  type PriceVersion,
  type RatedUsage,
  rateUsage,
  tokensFromAudioMs,
  tokensFromFrames,
} from "./rate.ts";

const VERSION: PriceVersion = {
  unitPriceMicrosPer1k: 15_000, // $0.015 per 1000 tokens
  peakMultiplierBp: 15_000, // ×1.5 at peak
  batchDiscountBp: 5_000, // batch: 50 % off
  peakWindows: [{ days: [1, 2, 3, 4, 5], start: "09:00", end: "18:00" }],
  timeZone: "Asia/Shanghai",
};
const PEAK = Date.parse("2025-06-02T02:00:00Z"); // Monday 10:00 in Shanghai
const OFF_PEAK = Date.parse("2025-06-02T12:00:00Z"); // Monday 20:00 in Shanghai

const cases: {
  name: string;
  input: { tokens: number | bigint; plan: Plan; atMs: number; version?: Partial<PriceVersion> };
  expected: RatedUsage;
}[] = [
  {
    name: "basic off-peak: tokens × unit price / 1000",
    input: { tokens: 1_000, plan: "basic", atMs: OFF_PEAK },
    expected: { peak: false, multiplierBp: 10_000, amountMicros: 15_000 },
  },
  {
    name: "basic at peak: the multiplier applies",
    input: { tokens: 1_000, plan: "basic", atMs: PEAK },
    expected: { peak: true, multiplierBp: 15_000, amountMicros: 22_500 },
  },
  {
    name: "batch off-peak: the discount applies",
    input: { tokens: 1_000, plan: "batch", atMs: OFF_PEAK },
    expected: { peak: false, multiplierBp: 10_000, amountMicros: 7_500 },
  },
  {
    name: "batch at peak: still discounted, never surcharged",
    input: { tokens: 1_000, plan: "batch", atMs: PEAK },
    expected: { peak: true, multiplierBp: 10_000, amountMicros: 7_500 },
  },
  {
    name: "enterprise: zero per event (settled at invoicing), peak still reported",
    input: { tokens: 1_000_000, plan: "enterprise", atMs: PEAK },
    expected: { peak: true, multiplierBp: 10_000, amountMicros: 0 },
  },
  {
    name: "zero tokens cost nothing",
    input: { tokens: 0, plan: "basic", atMs: PEAK },
    expected: { peak: true, multiplierBp: 15_000, amountMicros: 0 },
  },
  {
    name: "rounding: exactly .5 micro rounds up",
    input: { tokens: 1, plan: "basic", atMs: OFF_PEAK, version: { unitPriceMicrosPer1k: 500 } },
    expected: { peak: false, multiplierBp: 10_000, amountMicros: 1 },
  },
  {
    name: "rounding: just under .5 rounds down",
    input: { tokens: 1, plan: "basic", atMs: OFF_PEAK, version: { unitPriceMicrosPer1k: 499 } },
    expected: { peak: false, multiplierBp: 10_000, amountMicros: 0 },
  },
  {
    name: "rounding: 1.5 micros rounds up to 2",
    input: { tokens: 3, plan: "basic", atMs: OFF_PEAK, version: { unitPriceMicrosPer1k: 500 } },
    expected: { peak: false, multiplierBp: 10_000, amountMicros: 2 },
  },
  {
    name: "rounding: the peak surcharge is rounded once with the price (2.4 → 2, not round(1.6) × 1.5 = 3)",
    input: { tokens: 1, plan: "basic", atMs: PEAK, version: { unitPriceMicrosPer1k: 1_600 } },
    expected: { peak: true, multiplierBp: 15_000, amountMicros: 2 },
  },
  {
    name: "rounding: a batch discount landing on .5 rounds up",
    input: { tokens: 1, plan: "batch", atMs: OFF_PEAK, version: { unitPriceMicrosPer1k: 1_000 } },
    expected: { peak: false, multiplierBp: 10_000, amountMicros: 1 },
  },
  {
    name: "a fractional multiplier: ×1.25 at peak",
    input: { tokens: 2_000, plan: "basic", atMs: PEAK, version: { peakMultiplierBp: 12_500 } },
    expected: { peak: true, multiplierBp: 12_500, amountMicros: 37_500 },
  },
  {
    name: "huge counts past 2^53 / 1000 tokens: exact where float math is off by one micro",
    // 9 007 199 254 747 × 15 000 × 1.5 / 1000 = 202 661 983 231 807.5 → …808; floats give …807
    input: { tokens: 9_007_199_254_747, plan: "basic", atMs: PEAK },
    expected: { peak: true, multiplierBp: 15_000, amountMicros: 202_661_983_231_808 },
  },
  {
    name: "bigint token counts beyond 2^53",
    input: { tokens: 2n ** 60n, plan: "basic", atMs: OFF_PEAK, version: { unitPriceMicrosPer1k: 1 } },
    expected: { peak: false, multiplierBp: 10_000, amountMicros: 1_152_921_504_606_847 },
  },
];

describe("rateUsage", () => {
  for (const { name, input, expected } of cases) {
    test(name, () => {
      const version = { ...VERSION, ...input.version };
      expect(rateUsage({ tokens: input.tokens, plan: input.plan, atMs: input.atMs, version })).toEqual(expected);
    });
  }

  test("naive float arithmetic would have been wrong on the huge case", () => {
    expect(Math.round((9_007_199_254_747 * 15_000 * 15_000) / 10_000_000)).not.toBe(202_661_983_231_808);
  });

  const invalid: { name: string; input: { tokens: number | bigint; version?: Partial<PriceVersion> } }[] = [
    { name: "negative tokens", input: { tokens: -1 } },
    { name: "fractional tokens", input: { tokens: 1.5 } },
    { name: "unsafe number tokens", input: { tokens: 2 ** 60 } },
    { name: "a negative bigint", input: { tokens: -1n } },
    { name: "a fractional unit price", input: { tokens: 1, version: { unitPriceMicrosPer1k: 0.5 } } },
    { name: "a discount over 100 %", input: { tokens: 1, version: { batchDiscountBp: 10_001 } } },
    { name: "an amount past 2^53", input: { tokens: 2n ** 80n } },
  ];
  for (const { name, input } of invalid) {
    test(`refuses ${name}`, () => {
      const version = { ...VERSION, ...input.version };
      expect(() => rateUsage({ tokens: input.tokens, plan: "basic", atMs: OFF_PEAK, version })).toThrow(RangeError);
    });
  }
});

describe("divRoundHalfUp", () => {
  const divCases: { name: string; input: [bigint, bigint]; expected: bigint }[] = [
    { name: "exact", input: [10n, 5n], expected: 2n },
    { name: "below half", input: [14n, 10n], expected: 1n },
    { name: "half", input: [15n, 10n], expected: 2n },
    { name: "above half", input: [16n, 10n], expected: 2n },
    { name: "zero", input: [0n, 7n], expected: 0n },
  ];
  for (const { name, input, expected } of divCases) test(name, () => expect(divRoundHalfUp(...input)).toBe(expected));
});

describe("tokensFromAudioMs", () => {
  const audioCases: { name: string; input: [number, number?]; expected: number }[] = [
    { name: "one second is 50 tokens", input: [1_000], expected: 50 },
    { name: "10 ms is exactly half a token: rounds up", input: [10], expected: 1 },
    { name: "9 ms rounds down", input: [9], expected: 0 },
    { name: "30 ms is 1.5 tokens: rounds up", input: [30], expected: 2 },
    { name: "zero", input: [0], expected: 0 },
    { name: "a long clip", input: [123_456], expected: 6_173 },
    { name: "a fractional duration", input: [10.5], expected: 1 },
    { name: "another token rate", input: [20, 25], expected: 1 },
  ];
  for (const { name, input, expected } of audioCases) {
    test(name, () => expect(tokensFromAudioMs(...input)).toBe(expected));
  }

  test("refuses negative durations", () => expect(() => tokensFromAudioMs(-1)).toThrow(RangeError));
});

describe("tokensFromFrames", () => {
  const frameCases: { name: string; input: [number, number]; expected: number }[] = [
    { name: "one second at 22 050 Hz", input: [22_050, 22_050], expected: 50 },
    { name: "one token's worth of samples", input: [441, 22_050], expected: 1 },
    { name: "just under half a token", input: [220, 22_050], expected: 0 },
    { name: "just over half a token", input: [221, 22_050], expected: 1 },
    { name: "exactly half a token at 24 kHz rounds up", input: [240, 24_000], expected: 1 },
  ];
  for (const { name, input, expected } of frameCases) {
    test(name, () => expect(tokensFromFrames(...input)).toBe(expected));
  }
});

describe("amountMicrosOf (the billing hot path) is exactly divRoundHalfUp", () => {
  test("on random inputs of every size, and at the 2^53 boundary of the fast path", () => {
    let seed = 99;
    const rand = (n: number) => {
      seed = (seed * 48_271) % 2_147_483_647;
      return seed % n;
    };
    const inputs: [number, number, number][] = [
      [1, 500, 10_000],
      [3, 500, 10_000],
      [9_007_199_254_747, 15_000, 15_000],
      [450_359_962, 1_000_000, 10_000],
    ];
    for (let i = 0; i < 20_000; i++) inputs.push([rand(10 ** (1 + (i % 9))), rand(1_000_000), rand(30_000)]);
    for (const [t, unit, bp] of inputs) {
      const exact = Number(divRoundHalfUp(BigInt(t) * BigInt(unit) * BigInt(bp), 10_000_000n));
      if (!Number.isSafeInteger(exact)) continue;
      expect(amountMicrosOf(t, unit, bp)).toBe(exact);
    }
  });
});
