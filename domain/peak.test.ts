import { describe, expect, test } from "vitest";
import { isPeak, type PeakWindow, validatePeakWindows } from "./peak.ts";
import { localTime } from "./time-zone.ts";

/** "2025-03-10T13:00" read as UTC */
const utc = (s: string) => Date.parse(`${s}:00Z`);

const WEEKDAYS_9_TO_6: PeakWindow[] = [{ days: [1, 2, 3, 4, 5], start: "09:00", end: "18:00" }];

const cases: { name: string; input: { at: string; timeZone: string; windows: PeakWindow[] }; expected: boolean }[] = [
  // America/New_York: EST (−5) until Sun 2025-03-09 07:00 UTC, EDT (−4) until Sun 2025-11-02 06:00 UTC
  {
    name: "NY: 13:30 UTC on the Friday before DST is 08:30 EST, off-peak",
    input: { at: "2025-03-07T13:30", timeZone: "America/New_York", windows: WEEKDAYS_9_TO_6 },
    expected: false,
  },
  {
    name: "NY: the same 13:30 UTC on the Monday after DST began is 09:30 EDT, peak",
    input: { at: "2025-03-10T13:30", timeZone: "America/New_York", windows: WEEKDAYS_9_TO_6 },
    expected: true,
  },
  {
    name: "NY: 17:59 EDT is peak, 18:00 EDT is not (end is exclusive)",
    input: { at: "2025-03-10T21:59", timeZone: "America/New_York", windows: WEEKDAYS_9_TO_6 },
    expected: true,
  },
  {
    name: "NY: 18:00 EDT is off-peak",
    input: { at: "2025-03-10T22:00", timeZone: "America/New_York", windows: WEEKDAYS_9_TO_6 },
    expected: false,
  },
  {
    name: "NY: 13:30 UTC on the Friday before DST ended is 09:30 EDT, peak",
    input: { at: "2025-10-31T13:30", timeZone: "America/New_York", windows: WEEKDAYS_9_TO_6 },
    expected: true,
  },
  {
    name: "NY: the same 13:30 UTC on the Monday after is 08:30 EST, off-peak",
    input: { at: "2025-11-03T13:30", timeZone: "America/New_York", windows: WEEKDAYS_9_TO_6 },
    expected: false,
  },
  {
    name: "NY spring-forward day: 01:59 EST is inside 01:00–03:00",
    input: {
      at: "2025-03-09T06:59",
      timeZone: "America/New_York",
      windows: [{ days: [0], start: "01:00", end: "03:00" }],
    },
    expected: true,
  },
  {
    name: "NY spring-forward day: one real minute later it is 03:00 EDT, the window is over (02:xx never existed)",
    input: {
      at: "2025-03-09T07:00",
      timeZone: "America/New_York",
      windows: [{ days: [0], start: "01:00", end: "03:00" }],
    },
    expected: false,
  },
  {
    name: "NY fall-back day: 01:30 EDT (first time) is peak",
    input: {
      at: "2025-11-02T05:30",
      timeZone: "America/New_York",
      windows: [{ days: [0], start: "01:00", end: "02:00" }],
    },
    expected: true,
  },
  {
    name: "NY fall-back day: 01:30 EST (the repeated hour) is peak again",
    input: {
      at: "2025-11-02T06:30",
      timeZone: "America/New_York",
      windows: [{ days: [0], start: "01:00", end: "02:00" }],
    },
    expected: true,
  },
  {
    name: "NY fall-back day: 02:00 EST ends the window",
    input: {
      at: "2025-11-02T07:00",
      timeZone: "America/New_York",
      windows: [{ days: [0], start: "01:00", end: "02:00" }],
    },
    expected: false,
  },
  // Europe/Berlin: CET (+1) until Sun 2025-03-30 01:00 UTC, CEST (+2) until Sun 2025-10-26 01:00 UTC
  {
    name: "Berlin: 16:30 UTC on the Saturday before the change is 17:30 CET, off-peak",
    input: {
      at: "2025-03-29T16:30",
      timeZone: "Europe/Berlin",
      windows: [{ days: [0, 6], start: "18:00", end: "22:00" }],
    },
    expected: false,
  },
  {
    name: "Berlin: 16:30 UTC on the change day is 18:30 CEST, peak",
    input: {
      at: "2025-03-30T16:30",
      timeZone: "Europe/Berlin",
      windows: [{ days: [0, 6], start: "18:00", end: "22:00" }],
    },
    expected: true,
  },
  {
    name: "Berlin change night: Sat 23:00–03:00 still covers 01:59 CET on Sunday",
    input: {
      at: "2025-03-30T00:59",
      timeZone: "Europe/Berlin",
      windows: [{ days: [6], start: "23:00", end: "03:00" }],
    },
    expected: true,
  },
  {
    name: "Berlin change night: 01:00 UTC is 03:00 CEST, the window has ended",
    input: {
      at: "2025-03-30T01:00",
      timeZone: "Europe/Berlin",
      windows: [{ days: [6], start: "23:00", end: "03:00" }],
    },
    expected: false,
  },
  {
    name: "Berlin fall-back night: 02:30 CEST is peak",
    input: {
      at: "2025-10-26T00:30",
      timeZone: "Europe/Berlin",
      windows: [{ days: [6], start: "23:00", end: "03:00" }],
    },
    expected: true,
  },
  {
    name: "Berlin fall-back night: 02:30 CET (the repeated hour) is peak too",
    input: {
      at: "2025-10-26T01:30",
      timeZone: "Europe/Berlin",
      windows: [{ days: [6], start: "23:00", end: "03:00" }],
    },
    expected: true,
  },
  {
    name: "Berlin fall-back night: 03:00 CET ends it",
    input: {
      at: "2025-10-26T02:00",
      timeZone: "Europe/Berlin",
      windows: [{ days: [6], start: "23:00", end: "03:00" }],
    },
    expected: false,
  },
  // Asia/Shanghai: UTC+8, no DST
  {
    name: "Shanghai: 01:00 UTC Monday is 09:00 local, peak",
    input: { at: "2025-06-02T01:00", timeZone: "Asia/Shanghai", windows: WEEKDAYS_9_TO_6 },
    expected: true,
  },
  {
    name: "Shanghai: 08:59 local is not",
    input: { at: "2025-06-02T00:59", timeZone: "Asia/Shanghai", windows: WEEKDAYS_9_TO_6 },
    expected: false,
  },
  {
    name: "Shanghai: a lunch gap between two windows is off-peak",
    input: {
      at: "2025-06-02T04:30",
      timeZone: "Asia/Shanghai",
      windows: [
        { days: [1, 2, 3, 4, 5], start: "09:00", end: "12:00" },
        { days: [1, 2, 3, 4, 5], start: "14:00", end: "18:00" },
      ],
    },
    expected: false,
  },
  {
    name: "Shanghai: the local weekday wins — Sunday 17:00 UTC is Monday 01:00 local",
    input: {
      at: "2025-06-01T17:00",
      timeZone: "Asia/Shanghai",
      windows: [{ days: [1], start: "00:00", end: "02:00" }],
    },
    expected: true,
  },
  {
    name: "Shanghai: Sunday 10:00 local is off-peak on a weekday schedule",
    input: { at: "2025-06-01T02:00", timeZone: "Asia/Shanghai", windows: WEEKDAYS_9_TO_6 },
    expected: false,
  },
  // Windows crossing midnight (UTC, so only the window logic is under test)
  ...(
    [
      ["Fri 22:00 starts a Fri 22:00–02:00 window", "2025-06-06T22:00", true],
      ["Fri 21:59 is before it", "2025-06-06T21:59", false],
      ["Sat 01:59 is still in Friday's window", "2025-06-07T01:59", true],
      ["Sat 02:00 is after it", "2025-06-07T02:00", false],
      ["Fri 01:00 is not: Thursday has no window", "2025-06-06T01:00", false],
      ["Sat 23:00 is not: Saturday has no window", "2025-06-07T23:00", false],
    ] as const
  ).map(([name, at, expected]) => ({
    name: `midnight crossing: ${name}`,
    input: { at, timeZone: "UTC", windows: [{ days: [5], start: "22:00", end: "02:00" }] },
    expected,
  })),
  {
    name: "an end of 24:00 runs to midnight",
    input: { at: "2025-06-08T23:59", timeZone: "UTC", windows: [{ days: [0], start: "20:00", end: "24:00" }] },
    expected: true,
  },
  {
    name: "an end of 24:00 does not spill into the next day",
    input: { at: "2025-06-09T00:00", timeZone: "UTC", windows: [{ days: [0], start: "20:00", end: "24:00" }] },
    expected: false,
  },
  {
    name: "no windows: never peak",
    input: { at: "2025-06-02T10:00", timeZone: "UTC", windows: [] },
    expected: false,
  },
];

describe("isPeak", () => {
  for (const { name, input, expected } of cases) {
    test(name, () => expect(isPeak(utc(input.at), input.timeZone, input.windows)).toBe(expected));
  }

  test("an unknown zone is a RangeError", () => {
    expect(() => isPeak(0, "Mars/Olympus_Mons", WEEKDAYS_9_TO_6)).toThrow(RangeError);
  });

  test("invalid windows are a RangeError", () => {
    expect(() => isPeak(0, "UTC", [{ days: [1], start: "09:00", end: "09:00" }])).toThrow(RangeError);
  });
});

describe("localTime", () => {
  test("reports the local weekday and minute of the day", () => {
    expect(localTime(utc("2025-11-02T06:30"), "America/New_York")).toEqual({ weekday: 0, minuteOfDay: 90 });
    expect(localTime(utc("2025-06-01T16:00"), "Asia/Shanghai")).toEqual({ weekday: 1, minuteOfDay: 0 });
  });
});

describe("validatePeakWindows", () => {
  const windowCases: { name: string; input: PeakWindow; expected: number }[] = [
    { name: "a normal window", input: { days: [1], start: "09:00", end: "18:00" }, expected: 0 },
    { name: "end 24:00", input: { days: [1], start: "20:00", end: "24:00" }, expected: 0 },
    { name: "start 24:00", input: { days: [1], start: "24:00", end: "02:00" }, expected: 1 },
    { name: "start equals end", input: { days: [1], start: "09:00", end: "09:00" }, expected: 1 },
    { name: "a single-digit hour", input: { days: [1], start: "9:00", end: "18:00" }, expected: 1 },
    { name: "25:00", input: { days: [1], start: "09:00", end: "25:00" }, expected: 1 },
    { name: "day 7", input: { days: [7], start: "09:00", end: "18:00" }, expected: 1 },
    { name: "no days", input: { days: [], start: "09:00", end: "18:00" }, expected: 1 },
  ];
  for (const { name, input, expected } of windowCases) {
    test(name, () => expect(validatePeakWindows([input])).toHaveLength(expected));
  }
});
