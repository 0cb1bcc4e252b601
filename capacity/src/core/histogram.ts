/**
 * Latency histograms (hdr-histogram-js): values are recorded in microseconds with 3 significant digits, so every
 * percentile read back is within 0.1 % of the recorded value, whatever the distribution (no buckets chosen in
 * advance, unlike Locust's rounding or Prometheus buckets).
 */
import { build, type Histogram } from "hdr-histogram-js";

/** one hour in µs: anything longer is recorded as one hour */
const HIGHEST_US = 3_600_000_000;

export type { Histogram };

export function newHistogram(): Histogram {
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3 });
}

export function recordMs(h: Histogram, ms: number): void {
  h.recordValue(Math.min(HIGHEST_US, Math.max(1, Math.round(ms * 1000))));
}

export interface Percentiles {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** The histogram's distribution in milliseconds (zeros when empty). */
export function percentiles(h: Histogram): Percentiles {
  if (h.totalCount === 0) return { count: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 };
  const ms = (us: number) => us / 1000;
  return {
    count: h.totalCount,
    mean: ms(h.mean),
    p50: ms(h.getValueAtPercentile(50)),
    p95: ms(h.getValueAtPercentile(95)),
    p99: ms(h.getValueAtPercentile(99)),
    max: ms(h.maxValue),
  };
}
