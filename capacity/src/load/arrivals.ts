/**
 * Arrival schedules of the open model. A schedule is a piecewise-linear rate λ(t) (constant, ramping, steps) and a
 * process: "uniform" puts the i-th arrival where the cumulative rate Λ(t) reaches i (evenly spaced at a constant
 * rate); "poisson" where Λ(t) reaches a running sum of Exp(1) variates (a non-homogeneous Poisson process by time
 * change). Either way the intended send times are fixed before the run and do not depend on the server.
 */
import { exp1, type Rng } from "../core/rng.ts";

export interface RateSegment {
  durationMs: number;
  /** arrivals per second at the segment's start and end (linear in between) */
  from: number;
  to: number;
}

export type ArrivalProcess = "uniform" | "poisson";

export const constantRate = (rate: number, durationMs: number): RateSegment[] => [{ durationMs, from: rate, to: rate }];

export const ramp = (from: number, to: number, durationMs: number): RateSegment[] => [{ durationMs, from, to }];

/** `steps` levels, each held `stepMs`: start, start + step, ... */
export function rateSteps(start: number, step: number, count: number, stepMs: number): RateSegment[] {
  return Array.from({ length: count }, (_, i) => ({
    durationMs: stepMs,
    from: start + i * step,
    to: start + i * step,
  }));
}

export function totalDurationMs(segments: readonly RateSegment[]): number {
  return segments.reduce((a, s) => a + s.durationMs, 0);
}

/** The rate at `tMs` from the schedule's start (0 after its end). */
export function rateAt(segments: readonly RateSegment[], tMs: number): number {
  let t0 = 0;
  for (const s of segments) {
    if (tMs < t0 + s.durationMs) return s.from + ((s.to - s.from) * (tMs - t0)) / s.durationMs;
    t0 += s.durationMs;
  }
  return 0;
}

/** Expected number of arrivals over the schedule: ∫λ. */
export function expectedArrivals(segments: readonly RateSegment[]): number {
  return segments.reduce((a, s) => a + ((s.from + s.to) / 2) * (s.durationMs / 1000), 0);
}

/**
 * Intended arrival times in ms from the schedule's start, ascending, ending with the schedule. The i-th uniform
 * arrival is at Λ⁻¹(i + ½): half a period in, so a step of rate r for d seconds holds r·d arrivals, not r·d + 1.
 */
export function* arrivalTimes(segments: readonly RateSegment[], process: ArrivalProcess, rng: Rng): Generator<number> {
  let target = process === "uniform" ? 0.5 : exp1(rng);
  let lambdaBefore = 0; // Λ at the current segment's start
  let t0 = 0;
  for (const s of segments) {
    const d = s.durationMs / 1000;
    const a = (s.to - s.from) / (2 * d);
    const b = s.from;
    const segmentTotal = (b + (s.to - s.from) / 2) * d;
    while (target <= lambdaBefore + segmentTotal) {
      const x = target - lambdaBefore;
      // solve a·τ² + b·τ = x for τ in [0, d]
      const tau = Math.abs(a) < 1e-12 ? x / b : (-b + Math.sqrt(Math.max(0, b * b + 4 * a * x))) / (2 * a);
      yield t0 + Math.min(d, Math.max(0, tau)) * 1000;
      target += process === "uniform" ? 1 : exp1(rng);
    }
    lambdaBefore += segmentTotal;
    t0 += s.durationMs;
  }
}
