import { describe, expect, test } from "vitest";
import { wallClockMs } from "../../domain/time-zone.ts";
import { nextPeriod, type Period, parsePeriod, periodAt, periodBounds, previousPeriod } from "./period.ts";

const p = (id: string): Period => {
  const period = parsePeriod(id);
  if (!period) throw new Error(`bad period ${id}`);
  return period;
};
const iso = (ms: number) => new Date(ms).toISOString();

describe("parsePeriod", () => {
  test.each(["2026-01", "1999-12"])("accepts %s", (id) => expect(parsePeriod(id)?.id).toBe(id));
  test.each(["2026-13", "2026-1", "26-01", "2026-00", "2026-01-01", "", "1969-12"])("refuses %j", (id) =>
    expect(parsePeriod(id)).toBeNull(),
  );
  test("next and previous cross year ends", () => {
    expect(nextPeriod(p("2025-12")).id).toBe("2026-01");
    expect(previousPeriod(p("2026-01")).id).toBe("2025-12");
  });
});

describe("periodBounds: a calendar month in the plan's time zone", () => {
  const cases = [
    { name: "UTC", input: ["2026-02", "UTC"], expected: ["2026-02-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z"] },
    {
      name: "Shanghai (UTC+8) starts on the previous UTC day",
      input: ["2026-01", "Asia/Shanghai"],
      expected: ["2025-12-31T16:00:00.000Z", "2026-01-31T16:00:00.000Z"],
    },
    {
      name: "New York in March: starts in EST, ends in EDT (one hour shorter)",
      input: ["2026-03", "America/New_York"],
      expected: ["2026-03-01T05:00:00.000Z", "2026-04-01T04:00:00.000Z"],
    },
    {
      name: "New York in November: starts in EDT, ends in EST",
      input: ["2026-11", "America/New_York"],
      expected: ["2026-11-01T04:00:00.000Z", "2026-12-01T05:00:00.000Z"],
    },
    {
      name: "Asunción 2017-10: local midnight of the 1st never happened (00:00 → 01:00): starts at the jump",
      input: ["2017-10", "America/Asuncion"],
      expected: ["2017-10-01T04:00:00.000Z", "2017-11-01T03:00:00.000Z"],
    },
    {
      name: "Kathmandu (UTC+5:45)",
      input: ["2026-07", "Asia/Kathmandu"],
      expected: ["2026-06-30T18:15:00.000Z", "2026-07-31T18:15:00.000Z"],
    },
  ] as const;
  for (const { name, input, expected } of cases) {
    test(name, () => {
      const b = periodBounds(p(input[0]), input[1]);
      expect([iso(b.fromMs), iso(b.toMs)]).toEqual(expected);
    });
  }

  test("every instant belongs to exactly one period: boundaries line up month after month, across DST", () => {
    for (const zone of ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Asuncion", "Asia/Tokyo"]) {
      let period = p("2016-01");
      for (let i = 0; i < 12 * 12; i++) {
        const b = periodBounds(period, zone);
        expect(periodAt(b.fromMs, zone).id).toBe(period.id);
        expect(periodAt(b.fromMs - 1, zone).id).toBe(previousPeriod(period).id);
        expect(periodAt(b.toMs - 1, zone).id).toBe(period.id);
        const wall = new Date(wallClockMs(b.fromMs, zone));
        expect(wall.getUTCDate()).toBe(1);
        const next = nextPeriod(period);
        expect(periodBounds(next, zone).fromMs).toBe(b.toMs);
        period = next;
      }
    }
  });

  test("an unknown zone is a RangeError", () => {
    expect(() => periodBounds(p("2026-01"), "Mars/Olympus")).toThrow(RangeError);
  });
});
