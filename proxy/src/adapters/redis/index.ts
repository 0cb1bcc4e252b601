import { Redis } from "ioredis";
import { RedisCacheVersion } from "./cache-version.ts";
import { RedisConcurrencyLimiter, RedisRateLimiter } from "./limiters.ts";

export { RedisCacheVersion } from "./cache-version.ts";
export { RedisConcurrencyLimiter, RedisRateLimiter } from "./limiters.ts";

/**
 * The limiters every replica shares, and the read cache's shared version (a key revoked on one replica is refused by
 * the next request on any), over one connection to `REDIS_URL`. A command waits for a lost connection to
 * come back (ioredis reconnects) at most one retry, then fails the request rather than queueing it without bound.
 *
 * @example
 * const shared = connectRedisLimiters("redis://127.0.0.1:6379");
 * composeProxy({ rateLimiter: shared.rateLimiter, concurrency: shared.concurrency, … });
 */
export function connectRedisLimiters(url: string, options: { prefix?: string } = {}) {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  // ioredis reconnects by itself; without a listener it would print every failed attempt as "unhandled".
  redis.on("error", (error: Error) =>
    console.error(
      JSON.stringify({ level: "error", component: "redis", msg: "redis connection", error: error.message }),
    ),
  );
  return {
    rateLimiter: new RedisRateLimiter(redis, options),
    concurrency: new RedisConcurrencyLimiter(redis, options),
    cacheVersion: new RedisCacheVersion(redis, options),
    close: async () => {
      await redis.quit();
    },
  };
}
