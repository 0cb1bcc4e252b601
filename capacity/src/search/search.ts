/**
 * Capacity search: the highest load (arrival rate, or users) that meets the SLO, found as perf_analyzer and vLLM's
 * serve_sla do it: grow the load in steps (×`growth`) until a level fails, then bisect between the last passing and
 * the first failing level until they are within `precision` of each other. Each level is measured until it is
 * stable (or found unstable, which counts as a failure: latency that keeps growing means a queue that keeps growing).
 *
 * The result: the capacity (the knee of the SLO), the goodput there (ok responses within the latency bound per
 * second), the first failing level, and every probe, for the curves.
 */
import type { StepSummary } from "../load/stats.ts";
import { evaluateSlo, type Slo } from "./slo.ts";

export interface ProbeOutcome {
  step: StepSummary;
  /** stability reached before the probe's time ran out */
  stable: boolean;
}

export type Probe = (level: number) => Promise<ProbeOutcome>;

export interface SearchOptions {
  slo: Slo;
  start: number;
  /** the search never probes above this */
  max: number;
  /** the step phase multiplies the level by this (> 1) */
  growth: number;
  /** stop bisecting once (hi − lo) ≤ precision × hi */
  precision: number;
  /** users are whole numbers */
  integer: boolean;
  /** lowest level worth probing when even `start` fails */
  min: number;
  onProbe?: (p: ProbeRecord) => void;
}

export interface ProbeRecord {
  level: number;
  phase: "step" | "bisect";
  pass: boolean;
  stable: boolean;
  reasons: string[];
  /** the SLO percentile measured, ms */
  value: number;
  step: StepSummary;
}

export interface SearchResult {
  slo: Slo;
  unit: "users" | "req/s";
  /** highest passing level (0 when none passed) */
  capacity: number;
  /** lowest failing level (null when `max` still passed) */
  firstFail: number | null;
  /** the passing probe at `capacity` */
  atCapacity: ProbeRecord | null;
  /** ok responses within the SLO latency bound per second, at capacity */
  goodput: number;
  /** the most ok responses per second any probe achieved (the throughput plateau) */
  saturationRps: number;
  probes: ProbeRecord[];
  elapsedS: number;
}

export async function searchCapacity(probe: Probe, o: SearchOptions): Promise<SearchResult> {
  const started = performance.now();
  const probes: ProbeRecord[] = [];
  const norm = (x: number) => (o.integer ? Math.max(1, Math.round(x)) : Number(x.toPrecision(4)));
  const run = async (level: number, phase: ProbeRecord["phase"]): Promise<ProbeRecord> => {
    const { step, stable } = await probe(level);
    const v = evaluateSlo(step, o.slo);
    const reasons = stable ? v.reasons : [...v.reasons, "not stable"];
    const rec: ProbeRecord = { level, phase, pass: v.pass && stable, stable, reasons, value: v.value, step };
    probes.push(rec);
    o.onProbe?.(rec);
    return rec;
  };

  let lo: ProbeRecord | null = null;
  let hi: ProbeRecord | null = null;
  // Step phase: grow until a level fails or the maximum passes.
  let level = norm(Math.min(o.start, o.max));
  for (;;) {
    const r = await run(level, "step");
    if (!r.pass) {
      hi = r;
      break;
    }
    lo = r;
    if (level >= o.max) break;
    const next = norm(Math.min(o.max, level * o.growth));
    if (next <= level) break;
    level = next;
  }
  // The first level failed: step down (÷ growth) until a level passes or `min` is reached.
  while (!lo && hi) {
    const next = norm(Math.max(o.min, hi.level / o.growth));
    if (next >= hi.level) break;
    const r = await run(next, "step");
    if (r.pass) lo = r;
    else hi = r;
  }
  // Bisection between the last pass and the first failure.
  while (lo && hi && hi.level - lo.level > o.precision * hi.level) {
    const mid = norm((lo.level + hi.level) / 2);
    if (mid <= lo.level || mid >= hi.level) break;
    const r = await run(mid, "bisect");
    if (r.pass) lo = r;
    else hi = r;
  }
  return {
    slo: o.slo,
    unit: probes[0]?.step.unit ?? "req/s",
    capacity: lo?.level ?? 0,
    firstFail: hi?.level ?? null,
    atCapacity: lo,
    goodput: lo?.step.goodput ?? 0,
    saturationRps: Math.max(0, ...probes.map((p) => p.step.rps)),
    probes,
    elapsedS: (performance.now() - started) / 1000,
  };
}
