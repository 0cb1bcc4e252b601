import { describe, expect, it } from "vitest";
import { isPeak, type PeakWindow, peakAt } from "./peak.ts";

describe("peakAt (the request path's memoised isPeak)", () => {
  const windows: PeakWindow[] = [
    { days: [1, 2, 3, 4, 5], start: "09:00", end: "18:00" },
    { days: [6], start: "22:30", end: "02:15" }, // crosses midnight
  ];
  const zones = ["UTC", "America/New_York", "Asia/Kolkata", "Australia/Adelaide", "Asia/Kathmandu", "Europe/London"];

  it("agrees with isPeak at random instants, in order and out of order, across zones and DST changes", () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const from = Date.UTC(2026, 0, 1);
    const span = 365 * 86_400_000;
    for (let i = 0; i < 4_000; i++) {
      const at = from + Math.floor(random() * span);
      const zone = zones[i % zones.length] as string;
      expect(peakAt(at, zone, windows), `${new Date(at).toISOString()} ${zone}`).toBe(isPeak(at, zone, windows));
      // the same minute again, and the minute's edges, hit the memo
      const start = at - (at % 60_000);
      for (const t of [at, start, start + 59_999]) expect(peakAt(t, zone, windows)).toBe(isPeak(t, zone, windows));
    }
  });

  it("no windows: never peak; invalid windows still throw", () => {
    expect(peakAt(Date.now(), "UTC", [])).toBe(false);
    expect(() => peakAt(Date.now(), "UTC", [{ days: [1], start: "25:00", end: "26:00" }])).toThrow(RangeError);
  });
});
