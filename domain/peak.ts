/**
 * Peak windows in the wall-clock time of an IANA zone ("weekdays 09:00–18:00 in America/New_York").
 *
 * Windows are wall-clock, not durations: the local weekday, hour and minute of the event come from
 * `Intl.DateTimeFormat` with the zone (full ICU on Node and Workers), so daylight-saving changes need no special
 * case. On a spring-forward day a window covering the skipped hour is an hour shorter in real time; on a fall-back
 * day the repeated hour is peak both times if the window covers it. A window is half-open: `start ≤ t < end`,
 * minute precision (08:59:59 is before 09:00).
 *
 * `days` are the days a window *starts* on (0 = Sunday … 6 = Saturday). A window with `start > end` crosses
 * midnight: `{ days: [5], start: "22:00", end: "02:00" }` is Friday 22:00 until Saturday 02:00. `end` may be
 * "24:00" for "until midnight"; `start === end` is refused as ambiguous (empty or all day?).
 */
import type { PeakWindow } from "../migrations/schema/index.ts";
import { localTime, offsetMs } from "./time-zone.ts";

/** Declared once, with the column that stores it (`price_versions.peak_windows`). */
export type { PeakWindow } from "../migrations/schema/index.ts";

function parseClock(value: string, allow24: boolean): number | null {
  const m = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(value);
  if (!m) return null;
  const minutes = Number(m[1]) * 60 + Number(m[2]);
  if (minutes > 24 * 60 || (minutes === 24 * 60 && !allow24)) return null;
  return minutes;
}

/** Problems with a set of windows, for validating a price version before it is saved. Empty when valid. */
export function validatePeakWindows(windows: readonly PeakWindow[]): string[] {
  const errors: string[] = [];
  windows.forEach((w, i) => {
    const start = parseClock(w.start, false);
    const end = parseClock(w.end, true);
    if (start === null) errors.push(`window ${i}: start must be HH:MM from 00:00 to 23:59, got ${w.start}`);
    if (end === null) errors.push(`window ${i}: end must be HH:MM from 00:00 to 24:00, got ${w.end}`);
    if (start !== null && end !== null && start === end) errors.push(`window ${i}: start equals end`);
    if (w.days.length === 0) errors.push(`window ${i}: no days`);
    if (new Set(w.days).size !== w.days.length) errors.push(`window ${i}: duplicate weekday`);
    for (const d of w.days) if (!Number.isInteger(d) || d < 0 || d > 6) errors.push(`window ${i}: bad day ${d}`);
  });
  return errors;
}

/**
 * Whether the instant `atMs` falls in any of the windows, in `timeZone`'s wall-clock time.
 * Throws RangeError for invalid windows or an unknown zone (validate price versions when they are created).
 *
 * @example
 * isPeak(Date.UTC(2025, 2, 10, 13, 0), "America/New_York", [{ days: [1, 2, 3, 4, 5], start: "09:00", end: "18:00" }])
 * // true: 09:00 EDT on a Monday (DST began the day before)
 */
export function isPeak(atMs: number, timeZone: string, windows: readonly PeakWindow[]): boolean {
  const compiled = compilePeakWindows(windows);
  if (compiled.length === 0) return false;
  const { weekday, minuteOfDay } = localTime(atMs, timeZone);
  return inCompiledWindows(compiled, weekday, minuteOfDay);
}

/** A validated window in minutes, with its days as a bit mask (bit d = weekday d). */
export interface CompiledWindow {
  dayMask: number;
  start: number;
  end: number;
}

/** Validates (RangeError) and pre-parses windows once, for callers that classify many events. */
export function compilePeakWindows(windows: readonly PeakWindow[]): CompiledWindow[] {
  const errors = validatePeakWindows(windows);
  if (errors.length > 0) throw new RangeError(errors.join("; "));
  return windows.map((w) => ({
    dayMask: w.days.reduce((mask, d) => mask | (1 << d), 0),
    start: parseClock(w.start, false) ?? 0,
    end: parseClock(w.end, true) ?? 0,
  }));
}

/** Whether a local weekday and minute of the day fall in any window. */
export function inCompiledWindows(windows: readonly CompiledWindow[], weekday: number, minuteOfDay: number): boolean {
  const today = 1 << weekday;
  const yesterday = 1 << ((weekday + 6) % 7);
  const t = minuteOfDay;
  for (const w of windows) {
    if (w.start < w.end) {
      if (w.dayMask & today && t >= w.start && t < w.end) return true;
    } else if ((w.dayMask & today && t >= w.start) || (w.dayMask & yesterday && t < w.end)) {
      // Crosses midnight: the evening part belongs to today's window, the early-morning part to yesterday's.
      return true;
    }
  }
  return false;
}

// ─── fast paths: the same answer as `isPeak`, for many events or for the request path ──────────────────────────────

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

/** Classifiers of the request path, per set of windows (the read cache hands out the same version objects) and zone. */
const classifiers = new WeakMap<readonly PeakWindow[], Map<string, (atMs: number) => boolean>>();

/**
 * `isPeak` for the request path: the windows are validated and compiled once per price version object, the zone's
 * offset looked up once per quarter-hour.
 */
export function peakAt(atMs: number, timeZone: string, windows: readonly PeakWindow[]): boolean {
  if (windows.length === 0) return false;
  let byZone = classifiers.get(windows);
  if (!byZone) {
    byZone = new Map();
    classifiers.set(windows, byZone);
  }
  let classify = byZone.get(timeZone);
  if (!classify) {
    classify = peakClassifier(timeZone, windows);
    byZone.set(timeZone, classify);
  }
  return classify(atMs);
}
