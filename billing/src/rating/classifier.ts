import { offsetMs } from "../period.ts";
import { type CompiledWindow, compilePeakWindows, inCompiledWindows, localTime, type PeakWindow } from "./peak.ts";

const BUCKET_MS = 15 * 60_000;
const DAY_MS = 86_400_000;
const MAX_CACHED_BUCKETS = 200_000;

/**
 * `isPeak` for many events of one zone and set of windows: the same answer, without an `Intl` call per event.
 *
 * The zone's UTC offset is looked up once per 15-minute bucket of UTC time (offset transitions happen on whole
 * quarter-hours in UTC in every modern zone). A bucket whose first and last millisecond have different offsets
 * contains a transition; events in it take the exact `Intl` path. Local weekday and minute are then plain integer
 * arithmetic on `t + offset`, which is what `Intl` computes.
 *
 * @example
 * const peak = peakClassifier("Asia/Shanghai", [{ days: [1, 2, 3, 4, 5], start: "09:00", end: "18:00" }]);
 * peak(Date.parse("2025-06-02T02:00:00Z")) // true: Monday 10:00 in Shanghai
 */
export function peakClassifier(timeZone: string, windows: readonly PeakWindow[]): (atMs: number) => boolean {
  const compiled: CompiledWindow[] = compilePeakWindows(windows);
  if (compiled.length === 0) {
    localTime(0, timeZone); // still refuse an unknown zone
    return () => false;
  }
  const offsets = new Map<number, number>();
  return (atMs: number) => {
    if (!Number.isFinite(atMs)) throw new RangeError(`not a timestamp: ${atMs}`);
    const bucket = Math.floor(atMs / BUCKET_MS);
    let offset = offsets.get(bucket);
    if (offset === undefined) {
      const start = bucket * BUCKET_MS;
      const a = offsetMs(start, timeZone);
      const b = offsetMs(start + BUCKET_MS - 1, timeZone);
      // A transition inside the bucket, or a historical offset in seconds (LMT): classify those exactly.
      offset = a === b && a % 60_000 === 0 ? a : Number.NaN;
      if (offsets.size >= MAX_CACHED_BUCKETS) offsets.clear();
      offsets.set(bucket, offset);
    }
    if (Number.isNaN(offset)) {
      const { weekday, minuteOfDay } = localTime(atMs, timeZone);
      return inCompiledWindows(compiled, weekday, minuteOfDay);
    }
    const local = atMs + offset;
    const day = Math.floor(local / DAY_MS);
    const weekday = (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
    return inCompiledWindows(compiled, weekday, Math.floor((local - day * DAY_MS) / 60_000));
  };
}
