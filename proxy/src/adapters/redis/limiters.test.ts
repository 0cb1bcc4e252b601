import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runConcurrencyLimiterContract, runRateLimiterContract } from "../../core/rate-limit/contract.ts";
import { RedisConcurrencyLimiter, RedisRateLimiter } from "./limiters.ts";
import { type RedisServer, startRedisServer } from "./testing/redis-server.ts";

let server: RedisServer;
let redis: Redis;
let run = 0;
const prefix = () => `test${++run}:`;

beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url, { lazyConnect: false });
});

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

describe("Redis limiters", () => {
  runRateLimiterContract({ make: (clock) => new RedisRateLimiter(redis, { prefix: prefix(), now: clock }) });
  runConcurrencyLimiterContract({ make: () => new RedisConcurrencyLimiter(redis, { prefix: prefix() }) });

  it("is exact across clients: two connections racing for one bucket admit exactly the burst", async () => {
    const other = new Redis(server.url);
    try {
      const p = prefix();
      const a = new RedisRateLimiter(redis, { prefix: p });
      const b = new RedisRateLimiter(other, { prefix: p });
      const policy = { ratePerSecond: 0.001, burst: 50 }; // nothing refills during the test
      const results = await Promise.all(Array.from({ length: 500 }, (_, i) => (i % 2 ? a : b).limit("shared", policy)));
      expect(results.filter((r) => r.allowed)).toHaveLength(50);
    } finally {
      other.disconnect();
    }
  });

  it("answers 503 LIMITER_UNAVAILABLE (not an internal error) while Redis cannot be reached", async () => {
    const down = new Redis({ port: 1, host: "127.0.0.1", maxRetriesPerRequest: 0, lazyConnect: true });
    down.on("error", () => {}); // the refused connections are the point
    try {
      const limit = new RedisRateLimiter(down).limit("k", { ratePerSecond: 1, burst: 1 });
      await expect(limit).rejects.toMatchObject({ code: "LIMITER_UNAVAILABLE", status: 503 });
      const acquire = new RedisConcurrencyLimiter(down).acquire("k", 1);
      await expect(acquire).rejects.toMatchObject({ code: "LIMITER_UNAVAILABLE", status: 503 });
    } finally {
      down.disconnect();
    }
  });

  it("frees the slots of a holder that never released once their lease ends", async () => {
    const p = prefix();
    const limiter = new RedisConcurrencyLimiter(redis, { prefix: p, leaseMs: 1 });
    expect((await limiter.acquire("k", 1)).allowed).toBe(true);
    // The lease is 1 ms of Redis time: wait until Redis's clock has passed it (no sleep standing in for that).
    const [seconds, micros] = await redis.time();
    const until = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) + 2;
    for (;;) {
      const [s, us] = await redis.time();
      if (Number(s) * 1000 + Math.floor(Number(us) / 1000) >= until) break;
    }
    expect((await limiter.acquire("k", 1)).allowed).toBe(true);
  });
});
