import { Redis } from "ioredis";
import { RedisConcurrencyLimiter, RedisRateLimiter } from "./limiters.ts";

export { RedisConcurrencyLimiter, RedisRateLimiter } from "./limiters.ts";

/**
 * The limiters every replica shares, over one connection to `REDIS_URL`. A command waits for a lost connection to
 * come back (ioredis reconnects) at most one retry, then fails the request rather than queueing it without bound.
 *
 * @example
 * const shared = connectRedisLimiters("redis://127.0.0.1:6379");
 * composeProxy({ rateLimiter: shared.rateLimiter, concurrency: shared.concurrency, … });
 */
export function connectRedisLimiters(url: string, options: { prefix?: string } = {}) {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  return {
    rateLimiter: new RedisRateLimiter(redis, options),
    concurrency: new RedisConcurrencyLimiter(redis, options),
    close: async () => {
      await redis.quit();
    },
  };
}
