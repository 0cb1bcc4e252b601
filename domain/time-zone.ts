/**
 * Wall-clock time in an IANA zone, with Intl only (full ICU on Node and Workers; no tz database of our own). The one
 * place that builds `Intl.DateTimeFormat`s: local days (usage per day), local weekday and minute (peak windows),
 * UTC offsets and month bounds (billing periods) all read the same formatter.
 */

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** Formatters are costly to build: one per zone, for the life of the process or isolate. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // Throws RangeError for an unknown zone, which is what every caller wants.
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      weekday: "short",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The local calendar and clock fields of an instant in `timeZone` (month 1–12, weekday 0 = Sunday). */
export interface LocalParts {
  year: number;
  month: number;
  day: number;
  weekday: number;
  hour: number;
  minute: number;
  second: number;
}

export function localParts(atMs: number, timeZone: string): LocalParts {
  if (!Number.isFinite(atMs)) throw new RangeError(`not a timestamp: ${atMs}`);
  const p: LocalParts = { year: -1, month: -1, day: -1, weekday: -1, hour: -1, minute: -1, second: -1 };
  for (const part of formatter(timeZone).formatToParts(atMs)) {
    if (part.type === "weekday") p.weekday = WEEKDAYS[part.value] ?? -1;
    else if (part.type === "hour")
      p.hour = Number(part.value) % 24; // some engines once said "24" for midnight
    else if (part.type === "year" || part.type === "month" || part.type === "day") p[part.type] = Number(part.value);
    else if (part.type === "minute" || part.type === "second") p[part.type] = Number(part.value);
  }
  if (Object.values(p).some((v) => v < 0)) throw new Error(`unexpected Intl output for ${timeZone}`);
  return p;
}

/** The local weekday (0 = Sunday) and minute of the day of an instant in `timeZone`. */
export function localTime(atMs: number, timeZone: string): { weekday: number; minuteOfDay: number } {
  const { weekday, hour, minute } = localParts(atMs, timeZone);
  return { weekday, minuteOfDay: hour * 60 + minute };
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** "YYYY-MM-DD" of the instant `ms` in `timeZone`: usage "per day" is the customer's local day. */
export function localDay(ms: number, timeZone: string): string {
  const { year, month, day } = localParts(ms, timeZone);
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
}

/** The local wall-clock time of an instant, as if that wall time were UTC (ms resolution kept). */
export function wallClockMs(atMs: number, timeZone: string): number {
  const { year, month, day, hour, minute, second } = localParts(atMs, timeZone);
  return Date.UTC(year, month - 1, day, hour, minute, second) + (((atMs % 1000) + 1000) % 1000);
}

/** The UTC offset (ms) in force at an instant. */
export function offsetMs(atMs: number, timeZone: string): number {
  return wallClockMs(atMs, timeZone) - atMs;
}

const HOUR = 3_600_000;

/**
 * The first instant whose local wall time is ≥ `wallMs` (a wall time written as UTC ms). For a wall time that occurs
 * twice (fall-back), the first occurrence; for one that never occurs (spring-forward gap), the moment the clocks jump.
 */
export function instantOfWallClock(wallMs: number, timeZone: string): number {
  // The offset is one of those in force within ±1 day; try each and keep the earliest exact match.
  const offsets = new Set([-26, 0, 26].map((h) => offsetMs(wallMs + h * HOUR, timeZone)));
  let best: number | null = null;
  for (const off of offsets) {
    const t = wallMs - off;
    if (wallClockMs(t, timeZone) === wallMs && (best === null || t < best)) best = t;
  }
  if (best !== null) return best;
  // In a gap: local time is monotonic across a spring-forward, so search the transition between the candidates.
  const candidates = [...offsets].map((off) => wallMs - off);
  let lo = Math.min(...candidates);
  let hi = Math.max(...candidates);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (wallClockMs(mid, timeZone) >= wallMs) hi = mid;
    else lo = mid;
  }
  return hi;
}
