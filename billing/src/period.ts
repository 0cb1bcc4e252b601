/**
 * Billing periods: a calendar month in the plan's time zone ("2026-01" in Asia/Shanghai is
 * [2025-12-31T16:00Z, 2026-01-31T16:00Z)). Periods are half-open [fromMs, toMs) in epoch milliseconds, so every
 * instant belongs to exactly one period, across DST changes and zones whose midnight is skipped.
 */

import { instantOfWallClock, wallClockMs } from "../../domain/time-zone.ts";

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
