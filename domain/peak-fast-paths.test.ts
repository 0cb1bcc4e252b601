import { describe, expect, test } from "vitest";
import { isPeak, type PeakWindow, peakClassifier } from "./peak.ts";

const WINDOWS: PeakWindow[] = [
  { days: [1, 2, 3, 4, 5], start: "09:00", end: "18:00" },
  { days: [6], start: "23:00", end: "02:30" },
  { days: [0], start: "01:00", end: "03:00" },
];

describe("peakClassifier gives exactly isPeak's answer", () => {
  const zones = ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kathmandu", "Asia/Shanghai", "UTC"];
  for (const zone of zones) {
    test(`${zone}: every minute around each DST change of 2025, and random instants`, () => {
      const peak = peakClassifier(zone, WINDOWS);
      const instants: number[] = [];
      // Every 7 minutes through the year catches every transition's neighbourhood many times over.
      for (let t = Date.UTC(2025, 0, 1); t < Date.UTC(2026, 0, 1); t += 7 * 60_000 + 13_000) instants.push(t);
      let seed = 42;
      for (let i = 0; i < 5_000; i++) {
        seed = (seed * 48_271) % 2_147_483_647;
        instants.push(Date.UTC(2020, 0, 1) + (seed % 200_000_000) * 1_000 + (seed % 997));
      }
      let peaks = 0;
      for (const t of instants) {
        const expected = isPeak(t, zone, WINDOWS);
        if (peak(t) !== expected) throw new Error(`${zone} ${new Date(t).toISOString()}: expected ${expected}`);
        if (expected) peaks++;
      }
      // Not a vacuous comparison: both answers occur.
      expect(peaks).toBeGreaterThan(1_000);
      expect(instants.length - peaks).toBeGreaterThan(1_000);
    });
  }

  test("no windows: never peak; bad windows and zones are refused up front", () => {
    expect(peakClassifier("UTC", [])(Date.UTC(2025, 5, 2, 10))).toBe(false);
    expect(() => peakClassifier("UTC", [{ days: [9], start: "09:00", end: "10:00" }])).toThrow(RangeError);
    expect(() => peakClassifier("Mars/Olympus", [])).toThrow(RangeError);
  });
});
