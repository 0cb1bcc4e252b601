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
export interface PeakWindow {
  days: readonly number[];
  start: string;
  end: string;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** Formatters are costly to build; one per zone, for the life of the isolate. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // Throws RangeError for an unknown zone, which is what we want.
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      weekday: "short",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The local weekday (0 = Sunday) and minute of the day of an instant in `timeZone`. */
export function localTime(atMs: number, timeZone: string): { weekday: number; minuteOfDay: number } {
  if (!Number.isFinite(atMs)) throw new RangeError(`not a timestamp: ${atMs}`);
  let weekday = -1;
  let hour = -1;
  let minute = -1;
  for (const part of formatter(timeZone).formatToParts(atMs)) {
    if (part.type === "weekday") weekday = WEEKDAYS[part.value] ?? -1;
    else if (part.type === "hour")
      hour = Number(part.value) % 24; // some engines once said "24" for midnight
    else if (part.type === "minute") minute = Number(part.value);
  }
  if (weekday < 0 || hour < 0 || minute < 0) throw new Error(`unexpected Intl output for ${timeZone}`);
  return { weekday, minuteOfDay: hour * 60 + minute };
}

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
