import { describe, expect, test } from "vitest";
import { gcraDecide } from "./gcra.ts";
import {
  concurrencyHeaders,
  formatRateLimit,
  formatRateLimitPolicy,
  formatRetryAfter,
  policyWindowSeconds,
  rateLimitHeaders,
} from "./headers.ts";

describe("RateLimit-Policy", () => {
  const cases: { name: string; input: { ratePerSecond: number; burst: number }; expected: string }[] = [
    { name: "burst equal to the rate is one second", input: { ratePerSecond: 5, burst: 5 }, expected: '"ip";q=5;w=1' },
    {
      name: "a larger burst takes longer to refill",
      input: { ratePerSecond: 10, burst: 20 },
      expected: '"ip";q=20;w=2',
    },
    { name: "a fractional refill time rounds up", input: { ratePerSecond: 2, burst: 5 }, expected: '"ip";q=5;w=3' },
    { name: "slow rates give long windows", input: { ratePerSecond: 0.1, burst: 10 }, expected: '"ip";q=10;w=100' },
    { name: "a window is never below 1 s", input: { ratePerSecond: 100, burst: 1 }, expected: '"ip";q=1;w=1' },
  ];
  for (const { name, input, expected } of cases) {
    test(name, () => expect(formatRateLimitPolicy("ip", input)).toBe(expected));
  }

  test("a non-default quota unit is named", () => {
    expect(formatRateLimitPolicy("chars", { ratePerSecond: 100, burst: 1000 }, "content-bytes")).toBe(
      '"chars";q=1000;qu="content-bytes";w=10',
    );
  });

  test("names are Structured-Fields strings: quotes and backslashes escaped, non-ASCII refused", () => {
    expect(formatRateLimitPolicy('a"b\\c', { ratePerSecond: 1, burst: 1 })).toBe('"a\\"b\\\\c";q=1;w=1');
    expect(() => formatRateLimitPolicy("ïp", { ratePerSecond: 1, burst: 1 })).toThrow(RangeError);
  });

  test("policyWindowSeconds is robust to float division", () => {
    expect(policyWindowSeconds({ ratePerSecond: 3, burst: 3 })).toBe(1);
  });
});

describe("RateLimit and Retry-After", () => {
  const policy = { ratePerSecond: 1, burst: 3 };

  test("RateLimit carries the remaining quota and the reset time", () => {
    const { result } = gcraDecide(undefined, 0, policy);
    expect(formatRateLimit("ip", result)).toBe('"ip";r=2;t=1');
  });

  test("an allowed response has no Retry-After", () => {
    const { result } = gcraDecide(undefined, 0, policy);
    expect(rateLimitHeaders([{ name: "ip", policy, result }])).toEqual({
      "RateLimit-Policy": '"ip";q=3;w=3',
      RateLimit: '"ip";r=2;t=1',
    });
  });

  test("several policies are listed in order; Retry-After is the longest refusal", () => {
    const ip = gcraDecide(undefined, 0, policy).result;
    const key = gcraDecide(3_500, 0, policy).result; // refused: 1.5 s to wait
    const org = gcraDecide(4_000, 0, { ratePerSecond: 1, burst: 4 }).result; // refused: 1 s to wait
    expect(key).toMatchObject({ allowed: false, retryAfterSeconds: 2 });
    expect(org).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    expect(
      rateLimitHeaders([
        { name: "ip", policy, result: ip },
        { name: "key", policy, result: key },
        { name: "org", policy: { ratePerSecond: 1, burst: 4 }, result: org },
      ]),
    ).toEqual({
      "RateLimit-Policy": '"ip";q=3;w=3, "key";q=3;w=3, "org";q=4;w=4',
      RateLimit: '"ip";r=2;t=1, "key";r=0;t=4, "org";r=0;t=4',
      "Retry-After": "2",
    });
  });

  test("no entries, no headers", () => expect(rateLimitHeaders([])).toEqual({}));

  test("Retry-After is whole seconds, at least 1", () => {
    expect(formatRetryAfter(0)).toBe("1");
    expect(formatRetryAfter(1.2)).toBe("2");
    expect(formatRetryAfter(30)).toBe("30");
  });

  test("concurrency limits use the concurrent-requests unit and no window", () => {
    expect(concurrencyHeaders("inflight", { limit: 4, inFlight: 3 })).toEqual({
      "RateLimit-Policy": '"inflight";q=4;qu="concurrent-requests"',
      RateLimit: '"inflight";r=1',
    });
  });
});
