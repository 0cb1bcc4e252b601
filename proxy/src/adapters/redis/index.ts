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
  // ioredis reconnects by itself; without a listener it would print every failed attempt as "unhandled".
  redis.on("error", (error: Error) =>
    console.error(
      JSON.stringify({ level: "error", component: "redis", msg: "redis connection", error: error.message }),
    ),
  );
  return {
    rateLimiter: new RedisRateLimiter(redis, options),
    concurrency: new RedisConcurrencyLimiter(redis, options),
    close: async () => {
      await redis.quit();
    },
  };
}
