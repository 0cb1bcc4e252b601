import { describe, expect, it } from "vitest";
import { Rng } from "./rng.ts";

describe("Rng (per-request seeded streams)", () => {
  it("is reproducible for a seed and differs across seeds and streams", () => {
    const seq = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 20 }, () => rng.nextUint32());
    };
    expect(seq(5)).toEqual(seq(5));
    expect(seq(5)).not.toEqual(seq(6));
    expect(new Rng(5, 1).nextUint32()).not.toBe(new Rng(5, 2).nextUint32());
  });

  it("produces standard normals", () => {
    const rng = new Rng(9);
    const xs = Array.from({ length: 20_000 }, () => rng.nextNormal());
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });
});
