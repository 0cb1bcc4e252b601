import { describe, expect, it } from "vitest";
import { Accumulator, type StepSummary } from "../load/stats.ts";
import { type Probe, searchCapacity } from "./search.ts";
import { DEFAULT_SLO, isStable } from "./slo.ts";

/**
 * A queueing model of a server (M/D/1-like): below its capacity the p95 is its service time; above it the queue
 * grows with the probe's length. The search algorithm sees only probe results, so this checks the algorithm itself;
 * the HTTP end of it is exercised against a real queueing server in test/node/capacity-generator.test.ts.
 */
function modelProbe(capacity: number, serviceMs: number, probeS = 10): { probe: Probe; levels: number[] } {
  const levels: number[] = [];
  const probe: Probe = async (level) => {
    levels.push(level);
    const acc = new Accumulator(DEFAULT_SLO.boundMs);
    const rate = Math.min(level, capacity);
    const n = Math.round(rate * probeS);
    const backlogMs = level > capacity ? ((level - capacity) / capacity) * probeS * 1000 : 0;
    for (let i = 0; i < n; i++) {
      const latency = serviceMs + (backlogMs * i) / n;
      acc.add({
        payload: { id: "x", inputChars: 10, body: "" },
        intendedAt: 0,
        sentAt: 0,
        headersAt: latency,
        endAt: latency,
        status: 200,
        error: null,
        bytes: 1,
        audioMs: 1000,
        tokens: 50,
      });
    }
    const step: StepSummary = {
      ...acc.metrics(probeS),
      phase: "search",
      step: `${level}`,
      load: level,
      unit: "req/s",
      startS: 0,
      startedAtMs: 0,
      endedAtMs: 0,
      windows: [],
    };
    return { step, stable: level <= capacity };
  };
  return { probe, levels };
}

describe("capacity search", () => {
  it("finds the SLO knee within the precision, in far fewer probes than a sweep", async () => {
    const { probe, levels } = modelProbe(37.3, 800);
    const r = await searchCapacity(probe, {
      slo: DEFAULT_SLO,
      start: 1,
      max: 1000,
      growth: 2,
      precision: 0.02,
      integer: false,
      min: 0.1,
    });
    expect(r.capacity).toBeLessThanOrEqual(37.3);
    expect(r.capacity).toBeGreaterThan(37.3 * 0.98);
    expect(r.firstFail).toBeGreaterThan(37.3);
    expect(r.goodput).toBeCloseTo(r.capacity, 0);
    expect(levels.length).toBeLessThan(15);
    expect(r.probes.filter((p) => p.phase === "step").map((p) => p.level)).toEqual([1, 2, 4, 8, 16, 32, 64]);
  });

  it("searches users as whole numbers, and reports 0 when nothing passes", async () => {
    const users = await searchCapacity(modelProbe(13, 500).probe, {
      slo: DEFAULT_SLO,
      start: 2,
      max: 100,
      growth: 2,
      precision: 0.01,
      integer: true,
      min: 1,
    });
    expect(users.capacity).toBe(13);
    expect(users.probes.every((p) => Number.isInteger(p.level))).toBe(true);
    const none = await searchCapacity(modelProbe(10, 5000).probe, {
      slo: DEFAULT_SLO,
      start: 1,
      max: 100,
      growth: 2,
      precision: 0.05,
      integer: false,
      min: 0.5,
    });
    expect(none.capacity).toBe(0);
    expect(none.atCapacity).toBeNull();
  });

  it("stops at the maximum when everything passes", async () => {
    const r = await searchCapacity(modelProbe(1e6, 10).probe, {
      slo: DEFAULT_SLO,
      start: 10,
      max: 100,
      growth: 3,
      precision: 0.05,
      integer: false,
      min: 1,
    });
    expect(r.capacity).toBe(100);
    expect(r.firstFail).toBeNull();
  });

  it("calls windows stable only when throughput and the SLO percentile agree", () => {
    const w = (rps: number, p95: number) =>
      ({
        rps,
        ok: Math.round(rps),
        failures: { total: 0 },
        durationS: 1,
        latency: { p95 },
        ttfb: { p95 },
      }) as unknown as Parameters<typeof isStable>[0][number];
    const s = { windows: 3, tolerance: 0.1 };
    expect(isStable([w(100, 500), w(104, 520), w(98, 510)], DEFAULT_SLO, s)).toBe(true);
    expect(isStable([w(100, 500), w(104, 700), w(98, 900)], DEFAULT_SLO, s)).toBe(false); // a growing queue
    expect(isStable([w(100, 500), w(104, 700), w(98, 480)], DEFAULT_SLO, s)).toBe(true); // noise, no growth
    expect(isStable([w(100, 500), w(60, 500), w(98, 500)], DEFAULT_SLO, s)).toBe(false); // throughput wobbles
    expect(isStable([w(100, 500), w(104, 520)], DEFAULT_SLO, s)).toBe(false);
    expect(isStable([w(1, 500), w(2, 500), w(1, 500)], DEFAULT_SLO, s)).toBe(true); // ±1 request a window
    expect(isStable([w(1, 500), w(0, 0), w(1, 500)], DEFAULT_SLO, s)).toBe(false); // an empty window says nothing
  });
});

describe("capacity search below its start", () => {
  it("steps down when the first level already fails", async () => {
    const r = await searchCapacity(modelProbe(0.7, 500).probe, {
      slo: DEFAULT_SLO,
      start: 8,
      max: 100,
      growth: 2,
      precision: 0.05,
      integer: false,
      min: 0.05,
    });
    expect(r.probes.slice(0, 5).map((p) => p.level)).toEqual([8, 4, 2, 1, 0.5]);
    expect(r.capacity).toBeLessThanOrEqual(0.7);
    expect(r.capacity).toBeGreaterThan(0.7 * 0.95);
  });
});
