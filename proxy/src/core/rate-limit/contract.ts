import { describe, expect, test } from "vitest";
import type { ConcurrencyLimiter, RateLimiter, RateLimitPolicy } from "./port.ts";

/**
 * The behaviour every `RateLimiter` must have, as an exported suite (Hono's `common.case.test.ts` pattern): the
 * in-memory limiter runs it in `gcra.test.ts`, the Durable Object limiter will run it in its own test file.
 *
 * The suite drives a simulated clock. It passes `now` to every `limit()` call AND hands `make` a clock returning the
 * same value, so an implementation may honour either. Each test builds a fresh limiter and uses its own keys.
 */
export interface RateLimiterContractOptions {
  make: (clock: () => number) => RateLimiter | Promise<RateLimiter>;
}

const T0 = 1_700_000_000_000;

/** A deterministic PRNG (mulberry32) so the exactness test spreads its requests the same way every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function runRateLimiterContract({ make }: RateLimiterContractOptions): void {
  async function setup() {
    let now = T0;
    const limiter = await make(() => now);
    return {
      at: (ms: number) => {
        now = T0 + ms;
        return now;
      },
      limit: (key: string, policy: RateLimitPolicy, cost = 1) => limiter.limit(key, policy, cost, now),
    };
  }

  describe("RateLimiter contract", () => {
    test("admits exactly `burst` requests at once, then throttles", async () => {
      const rl = await setup();
      const policy = { ratePerSecond: 3, burst: 7 };
      const results = [];
      for (let i = 0; i < 10; i++) results.push(await rl.limit("k", policy));
      expect(results.filter((r) => r.allowed)).toHaveLength(7);
      expect(results.slice(0, 7).every((r) => r.allowed)).toBe(true);
      expect(results.map((r) => r.remaining)).toEqual([6, 5, 4, 3, 2, 1, 0, 0, 0, 0]);
      expect(results[9]).toMatchObject({ allowed: false, reason: "throttled", limit: 7 });
    });

    test("a fresh key reports the full quota and a reset time for what it spent", async () => {
      const rl = await setup();
      const r = await rl.limit("fresh", { ratePerSecond: 1, burst: 5 });
      expect(r).toEqual({
        allowed: true,
        limit: 5,
        remaining: 4,
        resetSeconds: 1,
        retryAfterMs: 0,
        retryAfterSeconds: 0,
      });
      const r2 = await rl.limit("fresh", { ratePerSecond: 1, burst: 5 }, 3);
      expect(r2).toMatchObject({ allowed: true, remaining: 1, resetSeconds: 4 });
    });

    test("refills at the configured rate", async () => {
      const rl = await setup();
      const policy = { ratePerSecond: 10, burst: 5 }; // one unit per 100 ms
      for (let i = 0; i < 5; i++) expect((await rl.limit("k", policy)).allowed).toBe(true);
      expect((await rl.limit("k", policy)).allowed).toBe(false);
      rl.at(99);
      expect((await rl.limit("k", policy)).allowed).toBe(false);
      rl.at(100);
      expect((await rl.limit("k", policy)).allowed).toBe(true);
      expect((await rl.limit("k", policy)).allowed).toBe(false);
      rl.at(400); // three more intervals elapsed
      const admitted = [];
      for (let i = 0; i < 5; i++) admitted.push((await rl.limit("k", policy)).allowed);
      expect(admitted).toEqual([true, true, true, false, false]);
      rl.at(10_000); // long idle: back to a full bucket, never more
      const burst = [];
      for (let i = 0; i < 7; i++) burst.push((await rl.limit("k", policy)).allowed);
      expect(burst.filter(Boolean)).toHaveLength(5);
    });

    test("a cost above 1 spends that many units, and a refused request spends nothing", async () => {
      const rl = await setup();
      const policy = { ratePerSecond: 1, burst: 10 };
      expect(await rl.limit("k", policy, 4)).toMatchObject({ allowed: true, remaining: 6 });
      expect(await rl.limit("k", policy, 4)).toMatchObject({ allowed: true, remaining: 2 });
      expect(await rl.limit("k", policy, 4)).toMatchObject({ allowed: false, remaining: 2, retryAfterMs: 2000 });
      expect(await rl.limit("k", policy, 2)).toMatchObject({ allowed: true, remaining: 0 });
    });

    test("cost 0 reports the state without spending", async () => {
      const rl = await setup();
      const policy = { ratePerSecond: 1, burst: 3 };
      await rl.limit("k", policy, 2);
      expect(await rl.limit("k", policy, 0)).toMatchObject({ allowed: true, remaining: 1 });
      expect(await rl.limit("k", policy, 0)).toMatchObject({ allowed: true, remaining: 1 });
    });

    test("a cost larger than the burst is refused as cost_exceeds_limit, even when idle", async () => {
      const rl = await setup();
      const r = await rl.limit("k", { ratePerSecond: 100, burst: 5 }, 6);
      expect(r).toMatchObject({ allowed: false, reason: "cost_exceeds_limit", remaining: 5, limit: 5 });
      expect(r.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    });

    test("separate keys are independent", async () => {
      const rl = await setup();
      const policy = { ratePerSecond: 1, burst: 2 };
      expect((await rl.limit("a", policy)).allowed).toBe(true);
      expect((await rl.limit("a", policy)).allowed).toBe(true);
      expect((await rl.limit("a", policy)).allowed).toBe(false);
      expect(await rl.limit("b", policy)).toMatchObject({ allowed: true, remaining: 1 });
      expect((await rl.limit("a", policy)).allowed).toBe(false);
    });

    test("retryAfter is accurate: refused just before it, admitted at it", async () => {
      const rl = await setup();
      const policy = { ratePerSecond: 0.5, burst: 2 }; // one unit per 2 s
      rl.at(1000);
      await rl.limit("k", policy);
      rl.at(1500);
      await rl.limit("k", policy);
      const denied = await rl.limit("k", policy);
      // the first unit was spent at 1000 ms and comes back at 3000 ms
      expect(denied).toMatchObject({ allowed: false, retryAfterMs: 1500, retryAfterSeconds: 2, resetSeconds: 4 });
      rl.at(1500 + denied.retryAfterMs - 1);
      expect((await rl.limit("k", policy)).allowed).toBe(false);
      rl.at(1500 + denied.retryAfterMs);
      expect((await rl.limit("k", policy)).allowed).toBe(true);

      const big = await rl.limit("k", policy, 2);
      expect(big.retryAfterMs).toBe(4000);
      rl.at(1500 + denied.retryAfterMs + big.retryAfterMs);
      expect((await rl.limit("k", policy, 2)).allowed).toBe(true);
    });

    test("a fractional emission interval still admits exactly the burst", async () => {
      const rl = await setup();
      const policy = { ratePerSecond: 3, burst: 3 }; // 333.33… ms per unit
      const first = [];
      for (let i = 0; i < 4; i++) first.push((await rl.limit("k", policy)).allowed);
      expect(first).toEqual([true, true, true, false]);
      rl.at(1000);
      const second = [];
      for (let i = 0; i < 4; i++) second.push((await rl.limit("k", policy)).allowed);
      expect(second).toEqual([true, true, true, false]);
    });

    test("exactness: a 10× over-limit flood admits burst + rate × duration within 1 %", async () => {
      const rl = await setup();
      const policy = { ratePerSecond: 20, burst: 40 };
      const durationMs = 60_000;
      const attempts = 10 * policy.ratePerSecond * (durationMs / 1000);
      const random = prng(42);
      const times = Array.from({ length: attempts }, () => Math.floor(random() * durationMs)).sort((a, b) => a - b);
      times[0] = 0;
      times[times.length - 1] = durationMs;
      let admitted = 0;
      for (const t of times) {
        rl.at(t);
        if ((await rl.limit("flood", policy)).allowed) admitted++;
      }
      const expected = policy.burst + (policy.ratePerSecond * durationMs) / 1000;
      expect(Math.abs(admitted - expected) / expected).toBeLessThanOrEqual(0.01);
      expect(admitted).toBeLessThanOrEqual(expected); // never more than the policy allows
    });
  });
}

export interface ConcurrencyLimiterContractOptions {
  make: () => ConcurrencyLimiter | Promise<ConcurrencyLimiter>;
}

/** The behaviour every `ConcurrencyLimiter` must have. */
export function runConcurrencyLimiterContract({ make }: ConcurrencyLimiterContractOptions): void {
  describe("ConcurrencyLimiter contract", () => {
    test("admits up to max in flight, then refuses until a release", async () => {
      const limiter = await make();
      const a = await limiter.acquire("k", 2);
      const b = await limiter.acquire("k", 2);
      const c = await limiter.acquire("k", 2);
      expect([a.allowed, b.allowed, c.allowed]).toEqual([true, true, false]);
      expect(b).toMatchObject({ inFlight: 2, limit: 2 });
      expect(c).toMatchObject({ inFlight: 2, limit: 2 });
      await a.release();
      expect((await limiter.acquire("k", 2)).allowed).toBe(true);
    });

    test("release is idempotent, and releasing a refused permit frees nothing", async () => {
      const limiter = await make();
      const a = await limiter.acquire("k", 1);
      const refused = await limiter.acquire("k", 1);
      await refused.release();
      expect((await limiter.acquire("k", 1)).allowed).toBe(false);
      await a.release();
      await a.release();
      const b = await limiter.acquire("k", 1);
      expect(b.allowed).toBe(true);
      expect((await limiter.acquire("k", 1)).allowed).toBe(false);
    });

    test("keys are independent and max 0 refuses everything", async () => {
      const limiter = await make();
      expect((await limiter.acquire("a", 1)).allowed).toBe(true);
      expect((await limiter.acquire("b", 1)).allowed).toBe(true);
      expect((await limiter.acquire("c", 0)).allowed).toBe(false);
    });
  });
}
