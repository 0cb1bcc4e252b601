/**
 * Usage summed per calendar day in a customer's time zone (`localDay` reads the ground floor's one formatter cache).
 * Usage "per day" means the customer's local day: an event at 23:30 in Shanghai is on that day, not on 15:30 UTC's.
 */
import { localDay } from "../../../domain/time-zone.ts";
import type { DailyUsage } from "./ports.ts";

/** A partial sum of usage at one instant (one event, or one bucket of events that lie within the same local day). */
export interface UsageSlice {
  atMs: number;
  planId: string;
  peak: boolean;
  currency: string;
  events: number;
  tokens: number;
  audioMs: number;
  amountMicros: number;
}

/** Sums slices into local days; sorted by day, plan, off-peak before peak, then currency. Integer sums stay exact. */
export function sumByLocalDay(slices: Iterable<UsageSlice>, timeZone: string): DailyUsage[] {
  const days = new Map<string, DailyUsage>();
  for (const slice of slices) {
    const day = localDay(slice.atMs, timeZone);
    const key = `${day}|${slice.planId}|${slice.peak ? 1 : 0}|${slice.currency}`;
    let row = days.get(key);
    if (row === undefined) {
      const { planId, peak, currency } = slice;
      row = { day, planId, peak, currency, events: 0, tokens: 0, audioMs: 0, amountMicros: 0 };
      days.set(key, row);
    }
    row.events += slice.events;
    row.tokens += slice.tokens;
    row.audioMs += slice.audioMs;
    row.amountMicros += slice.amountMicros;
  }
  return [...days.values()].sort(
    (a, b) =>
      a.day.localeCompare(b.day) ||
      compareIds(a.planId, b.planId) ||
      Number(a.peak) - Number(b.peak) ||
      compareIds(a.currency, b.currency),
  );
}

/** Code-unit order, the same in every runtime (SQL's ORDER BY on text is binary too). */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
