/**
 * Billing periods: a calendar month in the plan's time zone ("2026-01" in Asia/Shanghai is
 * [2025-12-31T16:00Z, 2026-01-31T16:00Z)). Periods are half-open [fromMs, toMs) in epoch milliseconds, so every
 * instant belongs to exactly one period, across DST changes and zones whose midnight is skipped.
 */

export const PERIOD_RE = /^(\d{4})-(0[1-9]|1[0-2])$/;

export interface Period {
  /** "YYYY-MM" */
  id: string;
  year: number;
  /** 1–12 */
  month: number;
}

export function parsePeriod(text: string): Period | null {
  const m = PERIOD_RE.exec(text);
  if (!m) return null;
  const year = Number(m[1]);
  if (year < 1970 || year > 9999) return null;
  return { id: text, year, month: Number(m[2]) };
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");
const periodOfYearMonth = (year: number, month: number): Period => ({ id: `${year}-${pad(month)}`, year, month });

export function nextPeriod(p: Period): Period {
  return p.month === 12 ? periodOfYearMonth(p.year + 1, 1) : periodOfYearMonth(p.year, p.month + 1);
}

export function previousPeriod(p: Period): Period {
  return p.month === 1 ? periodOfYearMonth(p.year - 1, 12) : periodOfYearMonth(p.year, p.month - 1);
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The local wall-clock time of an instant, as if that wall time were UTC (ms resolution kept). */
export function wallClockMs(atMs: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(atMs)) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  const { year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = parts;
  return Date.UTC(year, month - 1, day, hour % 24, minute, second) + (((atMs % 1000) + 1000) % 1000);
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

export interface PeriodBounds {
  period: Period;
  timeZone: string;
  fromMs: number;
  toMs: number;
}

const boundsCache = new Map<string, PeriodBounds>();

/** [local midnight of the 1st, local midnight of the next 1st) in `timeZone`. Throws RangeError on an unknown zone. */
export function periodBounds(period: Period, timeZone: string): PeriodBounds {
  const key = `${period.id}|${timeZone}`;
  const cached = boundsCache.get(key);
  if (cached) return { ...cached, period };
  const next = nextPeriod(period);
  const bounds = {
    period,
    timeZone,
    fromMs: instantOfWallClock(Date.UTC(period.year, period.month - 1, 1), timeZone),
    toMs: instantOfWallClock(Date.UTC(next.year, next.month - 1, 1), timeZone),
  };
  if (boundsCache.size > 10_000) boundsCache.clear();
  boundsCache.set(key, bounds);
  return { ...bounds };
}

/** The period an instant falls in, in `timeZone`. */
export function periodAt(atMs: number, timeZone: string): Period {
  const wall = new Date(wallClockMs(atMs, timeZone));
  return periodOfYearMonth(wall.getUTCFullYear(), wall.getUTCMonth() + 1);
}
