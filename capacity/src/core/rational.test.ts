import { describe, expect, it } from "vitest";
import { microsToText, Q } from "./rational.ts";

describe("exact rationals for money", () => {
  it("parses decimal text exactly (no float on the way)", () => {
    expect(Q.parse("0.1").add(Q.parse("0.2")).cmp(Q.parse("0.3"))).toBe(0);
    expect(Q.parse("1.5e3").toFixed(0)).toBe("1500");
    expect(Q.parse("12000").div(Q.parse("3").mul(365)).toFixed(6)).toBe("10.958904");
  });

  it("rejects what is not a non-negative decimal", () => {
    for (const bad of ["-1", "abc", "1,5", "", "NaN", "1e"]) expect(() => Q.parse(bad)).toThrow(RangeError);
    expect(() => Q.of(1).div(0)).toThrow(RangeError);
  });

  it("rounds to micro-units once, half up", () => {
    expect(Q.of(1, 2_000_000).toMicros()).toBe(1n); // 0.5 micro → 1
    expect(Q.of(1, 2_000_001).toMicros()).toBe(0n);
    expect(Q.parse("13.9589041").toMicros()).toBe(13_958_904n);
    expect(microsToText(139_589n, 4)).toBe("0.1396");
    expect(microsToText(5n, 2)).toBe("0.00");
  });
});
