/** The report's steps and windows as CSV (one row each), for spreadsheets and other tools. */
import type { Metrics, StepSummary, WindowSummary } from "../load/stats.ts";

const cell = (v: string | number) => {
  const s = typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : v;
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

const METRIC_COLUMNS: [string, (m: Metrics) => number][] = [
  ["duration_s", (m) => m.durationS],
  ["sent", (m) => m.sent],
  ["ok", (m) => m.ok],
  ["ok_per_s", (m) => m.rps],
  ["goodput_per_s", (m) => m.goodput],
  ["latency_mean_ms", (m) => m.latency.mean],
  ["latency_p50_ms", (m) => m.latency.p50],
  ["latency_p95_ms", (m) => m.latency.p95],
  ["latency_p99_ms", (m) => m.latency.p99],
  ["latency_max_ms", (m) => m.latency.max],
  ["ttfb_p50_ms", (m) => m.ttfb.p50],
  ["ttfb_p95_ms", (m) => m.ttfb.p95],
  ["failures", (m) => m.failures.total],
  ["http_429", (m) => m.failures.http429],
  ["http_5xx", (m) => m.failures.http5xx],
  ["http_4xx", (m) => m.failures.http4xx],
  ["transport_errors", (m) => m.failures.transport],
  ["dropped", (m) => m.failures.dropped],
  ["error_rate", (m) => m.errorRate],
  ["audio_s_per_s", (m) => m.audioSecondsPerSecond],
  ["tokens_per_s", (m) => m.tokensPerSecond],
  ["rtf_p50", (m) => m.rtf.p50],
  ["rtf_p95", (m) => m.rtf.p95],
  ["ms_per_token", (m) => m.msPerToken],
  ["ms_per_input_char", (m) => m.msPerInputChar],
  ["send_lag_p99_ms", (m) => m.sendLag.p99],
  ["max_in_flight", (m) => m.maxInFlight],
];

export function stepsCsv(steps: readonly StepSummary[]): string {
  const head = ["phase", "step", "load", "unit", "start_s", ...METRIC_COLUMNS.map(([n]) => n)];
  const rows = steps.map((s) => [s.phase, s.step, s.load, s.unit, s.startS, ...METRIC_COLUMNS.map(([, f]) => f(s))]);
  return `${[head, ...rows].map((r) => r.map(cell).join(",")).join("\n")}\n`;
}

export function windowsCsv(windows: readonly WindowSummary[]): string {
  const head = ["phase", "step", "load", "unit", "start_s", "in_flight", ...METRIC_COLUMNS.map(([n]) => n)];
  const rows = windows.map((w) => [
    w.phase,
    w.step,
    w.load,
    w.unit,
    w.startS,
    w.inFlight,
    ...METRIC_COLUMNS.map(([, f]) => f(w)),
  ]);
  return `${[head, ...rows].map((r) => r.map(cell).join(",")).join("\n")}\n`;
}
