import { describe, expect, test } from "vitest";
import { runConcurrencyLimiterContract, runRateLimiterContract } from "./contract.ts";
import { gcraDecide, InMemoryConcurrencyLimiter, InMemoryRateLimiter } from "./gcra.ts";

describe("InMemoryRateLimiter", () => {
  runRateLimiterContract({ make: (clock) => new InMemoryRateLimiter({ now: clock }) });

  test("uses its injected clock when no `now` is passed", async () => {
    let now = 0;
    const rl = new InMemoryRateLimiter({ now: () => now });
    const policy = { ratePerSecond: 1, burst: 1 };
    expect((await rl.limit("k", policy)).allowed).toBe(true);
    expect((await rl.limit("k", policy)).allowed).toBe(false);
    now = 1000;
    expect((await rl.limit("k", policy)).allowed).toBe(true);
  });

  test("forgets keys whose bucket has refilled, so memory only holds recently active keys", async () => {
    let now = 0;
    const rl = new InMemoryRateLimiter({ now: () => now, sweepIntervalMs: 1000 });
    const policy = { ratePerSecond: 10, burst: 5 };
    for (let i = 0; i < 1000; i++) await rl.limit(`ip:${i}`, policy);
    expect(rl.size).toBe(1000);
    now = 5_000; // every bucket refilled 100 ms after its request; the next call sweeps
    await rl.limit("late", policy);
    expect(rl.size).toBe(1);
  });

  test("a refused or zero-cost request on an idle key stores nothing", async () => {
    const rl = new InMemoryRateLimiter({ now: () => 0 });
    await rl.limit("a", { ratePerSecond: 1, burst: 2 }, 0);
    await rl.limit("b", { ratePerSecond: 1, burst: 2 }, 3);
    expect(rl.size).toBe(0);
  });

  test("past maxKeys the least recently updated key is forgotten", async () => {
    const rl = new InMemoryRateLimiter({ now: () => 0, maxKeys: 3 });
    const policy = { ratePerSecond: 1, burst: 1 };
    for (const k of ["a", "b", "c"]) await rl.limit(k, policy);
    await rl.limit("d", policy);
    expect(rl.size).toBe(3);
    // "a" was evicted: it fails open with a full bucket; "c" is still throttled
    expect((await rl.limit("a", policy)).allowed).toBe(true);
    expect((await rl.limit("c", policy)).allowed).toBe(false);
  });

  test("invalid policies and costs are programmer errors", async () => {
    const rl = new InMemoryRateLimiter();
    await expect(rl.limit("k", { ratePerSecond: 0, burst: 1 })).rejects.toThrow(RangeError);
    await expect(rl.limit("k", { ratePerSecond: 1, burst: 0.5 })).rejects.toThrow(RangeError);
    await expect(rl.limit("k", { ratePerSecond: 1, burst: 1 }, -1)).rejects.toThrow(RangeError);
    await expect(rl.limit("k", { ratePerSecond: 1, burst: 1 }, 1.5)).rejects.toThrow(RangeError);
  });
});

describe("gcraDecide", () => {
  const policy = { ratePerSecond: 2, burst: 4 }; // T = 500 ms, τ = 2000 ms

  test("an unknown key starts with a full bucket", () => {
    expect(gcraDecide(undefined, 10_000, policy)).toEqual({
      tatMs: 10_500,
      result: { allowed: true, limit: 4, remaining: 3, resetSeconds: 1, retryAfterMs: 0, retryAfterSeconds: 0 },
    });
  });

  test("a TAT in the past is a full bucket (no credit is banked beyond the burst)", () => {
    expect(gcraDecide(1_000, 10_000, policy).tatMs).toBe(10_500);
  });

  test("a refusal returns the stored TAT unchanged", () => {
    const d = gcraDecide(12_000, 10_000, policy);
    expect(d.tatMs).toBe(12_000);
    expect(d.result).toMatchObject({ allowed: false, reason: "throttled", remaining: 0, retryAfterMs: 500 });
  });

  test("a clock that steps backwards does not grant extra quota", () => {
    const d = gcraDecide(12_000, 9_000, policy);
    expect(d.result.allowed).toBe(false);
    expect(d.result.retryAfterMs).toBe(1_500);
  });
});

describe("InMemoryConcurrencyLimiter", () => {
  runConcurrencyLimiterContract({ make: () => new InMemoryConcurrencyLimiter() });

  test("drops a key's entry when its count returns to zero", async () => {
    const limiter = new InMemoryConcurrencyLimiter();
    const a = await limiter.acquire("k", 3);
    const b = await limiter.acquire("k", 3);
    expect(limiter.inFlight("k")).toBe(2);
    await a.release();
    await b.release();
    expect(limiter.size).toBe(0);
  });
});
