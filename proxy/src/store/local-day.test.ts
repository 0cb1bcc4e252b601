import { describe, expect, it } from "vitest";
import { localDay } from "../../../domain/time-zone.ts";
import { LocalDays } from "./local-day.ts";

const QUARTER_HOUR = 15 * 60_000;

describe("LocalDays", () => {
  // New York (DST at 02:00), Havana (DST at midnight: a local day that starts twice or not at all), Lord Howe
  // (30-minute DST), Kathmandu (+05:45): every 15 minutes of 2026 gets the same day as asking Intl each time.
  for (const zone of ["America/New_York", "America/Havana", "Australia/Lord_Howe", "Asia/Kathmandu"]) {
    it(`agrees with Intl for every quarter hour of a year in ${zone}`, () => {
      const days = new LocalDays(zone);
      const wrong: string[] = [];
      for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2027, 0, 1); t += QUARTER_HOUR) {
        const expected = localDay(t, zone);
        // Offsets and their changes are whole quarter hours, so a quarter hour lies in one local day: its last
        // millisecond too (buckets hold events anywhere in them).
        for (const at of [t, t + QUARTER_HOUR - 1]) {
          const got = days.of(at);
          if (got !== expected) wrong.push(`${new Date(at).toISOString()}: ${got} ≠ ${expected}`);
        }
      }
      expect(wrong.slice(0, 5)).toEqual([]);
    });
  }
});
