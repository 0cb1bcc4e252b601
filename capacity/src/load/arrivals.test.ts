import { describe, expect, it } from "vitest";
import { seededRng } from "../core/rng.ts";
import { arrivalTimes, constantRate, expectedArrivals, ramp, rateAt, rateSteps } from "./arrivals.ts";

const all = (it: Iterable<number>) => [...it];

describe("open-model arrival schedules", () => {
  it("a constant rate holds rate × duration evenly spaced arrivals", () => {
    const t = all(arrivalTimes(constantRate(1000, 2000), "uniform", seededRng(1)));
    expect(t).toHaveLength(2000);
    expect(t[0]).toBeCloseTo(0.5, 9);
    expect((t[1] ?? 0) - (t[0] ?? 0)).toBeCloseTo(1, 9);
    expect(t[t.length - 1]).toBeLessThan(2000);
  });

  it("a ramp's arrivals follow the integral of its rate, denser at the end", () => {
    const segments = ramp(10, 30, 10_000);
    expect(expectedArrivals(segments)).toBe(200);
    const t = all(arrivalTimes(segments, "uniform", seededRng(1)));
    expect(t).toHaveLength(200);
    const firstSecond = t.filter((x) => x < 1000).length;
    const lastSecond = t.filter((x) => x >= 9000).length;
    expect(firstSecond).toBeGreaterThanOrEqual(10);
    expect(firstSecond).toBeLessThanOrEqual(11);
    expect(lastSecond).toBeGreaterThanOrEqual(29);
    expect(lastSecond).toBeLessThanOrEqual(30);
    expect(rateAt(segments, 5000)).toBe(20);
  });

  it("steps are piecewise constant", () => {
    const segments = rateSteps(5, 5, 3, 1000);
    const t = all(arrivalTimes(segments, "uniform", seededRng(1)));
    expect([0, 1, 2].map((s) => t.filter((x) => x >= s * 1000 && x < (s + 1) * 1000).length)).toEqual([5, 10, 15]);
  });

  it("Poisson arrivals have the right mean and exponential gaps (replayable by seed)", () => {
    const t = all(arrivalTimes(constantRate(500, 20_000), "poisson", seededRng(7)));
    expect(t.length).toBeGreaterThan(10_000 * 0.97);
    expect(t.length).toBeLessThan(10_000 * 1.03);
    const gaps = t.slice(1).map((x, i) => x - (t[i] ?? 0));
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / gaps.length);
    expect(mean).toBeCloseTo(2, 1);
    expect(sd / mean).toBeGreaterThan(0.9); // exponential: coefficient of variation 1
    expect(all(arrivalTimes(constantRate(500, 1000), "poisson", seededRng(7)))).toEqual(
      all(arrivalTimes(constantRate(500, 1000), "poisson", seededRng(7))),
    );
  });

  it("a zero-rate stretch has no arrivals", () => {
    expect(all(arrivalTimes([{ durationMs: 1000, from: 0, to: 0 }], "uniform", seededRng(1)))).toEqual([]);
  });
});
