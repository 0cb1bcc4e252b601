import { abortAllDurableObjects } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DurableConcurrencyLimiter, DurableRateLimiter } from "../../proxy/src/adapters/workers/durable-limiters.ts";

describe("LimiterObject state survives the object's restart", () => {
  it("keeps the spent units and the held slots when the object is evicted and comes back", async () => {
    const prefix = `${crypto.randomUUID()}:`;
    const rate = new DurableRateLimiter(env.LIMITER, { prefix });
    const slots = new DurableConcurrencyLimiter(env.LIMITER, 60_000, { prefix });
    const policy = { ratePerSecond: 0.001, burst: 5 }; // no refill within the test
    for (let i = 0; i < 3; i++) expect((await rate.limit("key:a", policy)).allowed).toBe(true);
    const held = await slots.acquire("key:a", 2);
    expect(held.allowed).toBe(true);

    await abortAllDurableObjects(); // the instance goes away; its storage stays

    expect(await rate.limit("key:a", policy, 0)).toMatchObject({ allowed: true, remaining: 2 });
    expect(await slots.acquire("key:a", 2)).toMatchObject({ allowed: true, inFlight: 2 });
    expect((await slots.acquire("key:a", 2)).allowed).toBe(false);
    await held.release();
    expect((await slots.acquire("key:a", 2)).allowed).toBe(true);
  });
});
