/**
 * The service-level objective a load level must meet, and the stability check of a measurement (perf_analyzer's:
 * the last `windows` windows agree within `tolerance` on throughput and on the SLO percentile).
 */
import type { Metrics, WindowSummary } from "../load/stats.ts";

export interface Slo {
  /** which latency: to the last byte ("latency") or to the response head ("ttfb") */
  metric: "latency" | "ttfb";
  percentile: 50 | 95 | 99;
  boundMs: number;
  /** failures (429, 5xx, other 4xx, transport errors, drops) over answered + dropped requests */
  maxErrorRate: number;
}

export const DEFAULT_SLO: Slo = { metric: "latency", percentile: 95, boundMs: 3000, maxErrorRate: 0.01 };

export function sloText(slo: Slo): string {
  const what = slo.metric === "ttfb" ? "TTFB" : "latency";
  return `p${slo.percentile} ${what} ≤ ${(slo.boundMs / 1000).toFixed(slo.boundMs % 1000 ? 2 : 0)} s and errors ≤ ${(slo.maxErrorRate * 100).toFixed(1)} %`;
}

export function sloValue(m: Metrics, slo: Slo): number {
  const p = slo.metric === "ttfb" ? m.ttfb : m.latency;
  return slo.percentile === 50 ? p.p50 : slo.percentile === 95 ? p.p95 : p.p99;
}

export interface SloVerdict {
  pass: boolean;
  value: number;
  reasons: string[];
}

export function evaluateSlo(m: Metrics, slo: Slo): SloVerdict {
  const value = sloValue(m, slo);
  const reasons: string[] = [];
  if (m.ok === 0) reasons.push("no successful responses");
  if (value > slo.boundMs) reasons.push(`p${slo.percentile} ${value.toFixed(0)} ms > ${slo.boundMs} ms`);
  if (m.errorRate > slo.maxErrorRate) {
    reasons.push(`errors ${(m.errorRate * 100).toFixed(2)} % > ${(slo.maxErrorRate * 100).toFixed(1)} %`);
  }
  return { pass: reasons.length === 0, value, reasons };
}

export interface Stability {
  windows: number;
  /** max/min − 1 allowed, e.g. 0.1 */
  tolerance: number;
}

export const DEFAULT_STABILITY: Stability = { windows: 3, tolerance: 0.1 };

/**
 * True when the last `windows` windows agree on throughput, and their SLO percentile either agrees too
 * (perf_analyzer's test) or does not grow across them by more than the tolerance: a few requests per window make
 * a percentile noisy, while a queue that keeps growing makes it climb window after window. A window in which
 * nothing completed says nothing about latency, so a measurement is stable only once that many windows hold
 * responses.
 */
export function isStable(ws: readonly WindowSummary[], slo: Slo, s: Stability): boolean {
  if (ws.length < s.windows) return false;
  const last = ws.slice(-s.windows);
  if (last.some((w) => w.ok + w.failures.total === 0)) return false;
  // Small absolute differences agree even when their ratio is large: one request more or less per window, 1 ms.
  const within = (xs: number[], slack: number) => {
    const min = Math.min(...xs);
    const max = Math.max(...xs);
    return max - min <= slack || (min > 0 && max / min - 1 <= s.tolerance);
  };
  const perWindow = 1 / Math.max(1e-3, Math.min(...last.map((w) => w.durationS)));
  const latency = last.map((w) => sloValue(w, slo));
  const notGrowing = (latency[latency.length - 1] ?? 0) <= (latency[0] ?? 0) * (1 + s.tolerance) + 1;
  const rps = last.map((w) => w.rps);
  return within(rps, perWindow) && (within(latency, 1) || notGrowing);
}
