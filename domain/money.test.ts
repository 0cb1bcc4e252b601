import { describe, expect, test } from "vitest";
import { apportion, currencyRules, formatMicros, microsToMinor, microsToMinorDecimal, minorToMicros } from "./money.ts";

describe("currencyRules", () => {
  const cases = [
    { input: "usd", expected: { minorPerUnit: 100, microsPerMinor: 10_000, minorStep: 1, microsPerStep: 10_000 } },
    { input: "JPY", expected: { minorPerUnit: 1, microsPerMinor: 1_000_000, minorStep: 1, microsPerStep: 1_000_000 } },
    { input: "KWD", expected: { minorPerUnit: 1000, microsPerMinor: 1_000, minorStep: 10, microsPerStep: 10_000 } },
    { input: "ISK", expected: { minorPerUnit: 100, microsPerMinor: 10_000, minorStep: 100, microsPerStep: 1_000_000 } },
    { input: "CNY", expected: { minorPerUnit: 100, microsPerMinor: 10_000, minorStep: 1, microsPerStep: 10_000 } },
  ];
  for (const { input, expected } of cases) test(input, () => expect(currencyRules(input)).toMatchObject(expected));
  test("refuses a non-ISO code", () => expect(() => currencyRules("dollars")).toThrow(RangeError));
});

describe("microsToMinor / minorToMicros (exact, never rounding)", () => {
  test.each([
    [1_230_000, "USD", 123],
    [5_000_000, "JPY", 5],
    [5_120_000, "KWD", 5_120],
  ])("%i micros of %s = %i minor", (micros, currency, minor) => {
    expect(microsToMinor(micros, currency)).toBe(minor);
    expect(minorToMicros(minor, currency)).toBe(micros);
  });
  test("refuses a fraction of a cent instead of rounding it", () => {
    expect(() => microsToMinor(1_234_567, "USD")).toThrow(/not a whole number/);
    expect(() => microsToMinor(1_500_000, "JPY")).toThrow(/not a whole number/);
  });
});

describe("apportion", () => {
  const cases: {
    name: string;
    input: { lines: number[]; carryIn: number; currency: string };
    expected: { linesMinor: number[]; totalMinor: number; carryOutMicros: number };
  }[] = [
    {
      name: "whole cents pass through unchanged",
      input: { lines: [1_230_000, 40_000], carryIn: 0, currency: "USD" },
      expected: { linesMinor: [123, 4], totalMinor: 127, carryOutMicros: 0 },
    },
    {
      name: "sub-cent parts are carried, never rounded away",
      input: { lines: [12_345, 20_000], carryIn: 0, currency: "USD" },
      expected: { linesMinor: [1, 2], totalMinor: 3, carryOutMicros: 2_345 },
    },
    {
      name: "a carry-in completes a cent on the first line",
      input: { lines: [5_000, 0], carryIn: 7_500, currency: "USD" },
      expected: { linesMinor: [1, 0], totalMinor: 1, carryOutMicros: 2_500 },
    },
    {
      name: "yen: whole yen only",
      input: { lines: [2_400_000, 600_001], carryIn: 0, currency: "JPY" },
      expected: { linesMinor: [2, 1], totalMinor: 3, carryOutMicros: 1 },
    },
    {
      name: "KWD: multiples of 10 fils (5.124 KWD bills 5.120, 0.004 carried)",
      input: { lines: [5_124_000], carryIn: 0, currency: "KWD" },
      expected: { linesMinor: [5_120], totalMinor: 5_120, carryOutMicros: 4_000 },
    },
    {
      name: "less than a cent: nothing billed, everything carried",
      input: { lines: [3, 4], carryIn: 9_990, currency: "USD" },
      expected: { linesMinor: [0, 0], totalMinor: 0, carryOutMicros: 9_997 },
    },
    {
      name: "the cent completed by the second line lands on the second line",
      input: { lines: [3, 4], carryIn: 9_995, currency: "USD" },
      expected: { linesMinor: [0, 1], totalMinor: 1, carryOutMicros: 2 },
    },
    {
      name: "no lines",
      input: { lines: [], carryIn: 0, currency: "USD" },
      expected: { linesMinor: [], totalMinor: 0, carryOutMicros: 0 },
    },
  ];
  for (const { name, input, expected } of cases) {
    test(name, () => {
      const r = apportion(input.lines, input.carryIn, input.currency);
      expect(r).toMatchObject(expected);
      // The invariant that makes the invoice exact: billed + carried-out = carried-in + ledger, to the micro.
      const ledger = input.lines.reduce((a, b) => a + b, 0);
      expect(r.billedMicros + r.carryOutMicros).toBe(ledger + input.carryIn);
      expect(r.linesMinor.reduce((a, b) => a + b, 0)).toBe(r.totalMinor);
    });
  }

  test("random lines: exact invariant, each line within one step of its amount, step-aligned", () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    for (const currency of ["USD", "JPY", "KWD", "ISK"]) {
      const { microsPerStep, minorStep, microsPerMinor } = currencyRules(currency);
      let carry = 0;
      let ledger = 0;
      let billed = 0;
      for (let period = 0; period < 200; period++) {
        const lines = Array.from({ length: 1 + rand(4) }, () => rand(50_000_000));
        ledger += lines.reduce((a, b) => a + b, 0);
        const r = apportion(lines, carry, currency);
        for (const [i, m] of r.linesMinor.entries()) {
          expect(m % minorStep).toBe(0);
          expect(Math.abs(m * microsPerMinor - (lines[i] ?? 0))).toBeLessThan(microsPerStep * 2);
        }
        billed += r.billedMicros;
        carry = r.carryOutMicros;
        expect(carry).toBeGreaterThanOrEqual(0);
        expect(carry).toBeLessThan(microsPerStep);
      }
      expect(billed + carry).toBe(ledger);
    }
  });

  test("refuses negative lines and an out-of-range carry", () => {
    expect(() => apportion([-1], 0, "USD")).toThrow(RangeError);
    expect(() => apportion([1], 10_000, "USD")).toThrow(RangeError);
    expect(() => apportion([0.5], 0, "USD")).toThrow(RangeError);
  });
});

describe("formatting", () => {
  test.each([
    [0, "0"],
    [2_345, "0.002345"],
    [1_500_000, "1.5"],
    [20_000_000_000, "20000"],
  ])("formatMicros(%i) = %s", (micros, text) => expect(formatMicros(micros)).toBe(text));

  test.each([
    [20_000, "USD", "2"],
    [15_001, "USD", "1.5001"],
    [20_000, "JPY", "0.02"],
    [1, "JPY", "0.000001"],
    [1_500, "KWD", "1.5"],
  ])("microsToMinorDecimal(%i, %s) = %s", (micros, currency, text) =>
    expect(microsToMinorDecimal(micros, currency)).toBe(text),
  );
});
