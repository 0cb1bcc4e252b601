/**
 * The per-IP and per-key limits and the in-flight caps in Redis (or Valkey), shared by every proxy replica
 * (`REDIS_URL`). Each decision is one Lua script, so it is exact across replicas: no replica reads a value and
 * writes it back while another one decides. The in-process limiters (`core/rate-limit/gcra.ts`) stay the embedded
 * default; both pass the same contract suites.
 */
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { ProxyError } from "../../core/errors.ts";
import { gcraDecide } from "../../core/rate-limit/gcra.ts";
import {
  assertValidPolicy,
  type ConcurrencyLimiter,
  type ConcurrencyPermit,
  type RateLimiter,
  type RateLimitPolicy,
  type RateLimitResult,
} from "../../core/rate-limit/port.ts";
import { RedisScript } from "./script.ts";

/** Milliseconds on Redis's clock, so replicas whose clocks disagree still share one timeline. */
const REDIS_NOW = `local function redis_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end`;

/**
 * GCRA, the same transition as `gcraDecide` (same float operations, so the same decision): ARGV = now ('' for
 * Redis's clock), emission interval ms, burst, cost. Spends only when admitted; the key expires when its bucket is
 * full again. Returns {admitted, the TAT it read ('' if none), the now it used}, as exact decimal strings.
 */
const GCRA = new RedisScript(`${REDIS_NOW}
local now = tonumber(ARGV[1]) or redis_now()
local interval, burst, cost = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1]))
local base = now
if tat and tat > now then base = tat end
local new_tat = base + cost * interval
local admitted = cost <= burst and new_tat - burst * interval <= now + 1e-6
if admitted and cost > 0 then
  redis.call('SET', KEYS[1], string.format('%.17g', new_tat), 'PX', math.max(1, math.ceil(new_tat - now)))
end
return { admitted and 1 or 0, tat and string.format('%.17g', tat) or '', string.format('%.17g', now) }`);

/**
 * A permit is a member of the key's sorted set, scored by when its lease ends: a replica killed while holding permits
 * frees them when their leases end instead of leaking slots forever. ARGV = max, permit id, lease ms.
 */
const ACQUIRE = new RedisScript(`${REDIS_NOW}
local now = redis_now()
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZCARD', KEYS[1])
if held >= tonumber(ARGV[1]) then return { 0, held } end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return { 1, held + 1 }`);

/**
 * Runs a script; a Redis that cannot be reached fails the request with 503 LIMITER_UNAVAILABLE (Retry-After 1):
 * closed, not open, since admitting everyone while the limits are down is what the limits are there to prevent.
 */
async function decide(script: RedisScript, redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
  try {
    return await script.run(redis, keys, args);
  } catch (error) {
    throw new ProxyError("LIMITER_UNAVAILABLE", `shared limits unavailable: ${(error as Error).message}`, {
      retryAfterSeconds: 1,
    });
  }
}

export interface RedisLimiterOptions {
  /** Prefix of every key this limiter writes (default `tts:`), so tenants or test runs do not collide. */
  prefix?: string;
}

export class RedisRateLimiter implements RateLimiter {
  readonly #prefix: string;
  readonly #now: (() => number) | undefined;

  /** `now`: a clock of the caller's (tests); without it every replica uses Redis's own. */
  constructor(
    private readonly redis: Redis,
    options: RedisLimiterOptions & { now?: () => number } = {},
  ) {
    this.#prefix = `${options.prefix ?? "tts:"}rl:`;
    this.#now = options.now;
  }

  async limit(key: string, policy: RateLimitPolicy, cost = 1, now = this.#now?.()): Promise<RateLimitResult> {
    assertValidPolicy(policy, cost);
    const interval = 1000 / policy.ratePerSecond;
    const reply = (await decide(
      GCRA,
      this.redis,
      [this.#prefix + key],
      [now === undefined ? "" : String(now), String(interval), policy.burst, cost],
    )) as [number, string, string];
    const [admitted, tat, usedNow] = reply;
    // The script decided and spent; the result fields come from the same transition in TypeScript.
    const { result } = gcraDecide(tat === "" ? undefined : Number(tat), Number(usedNow), policy, cost);
    if (result.allowed !== (admitted === 1)) throw new Error(`GCRA in Redis and in gcraDecide disagree on ${key}`);
    return result;
  }
}

const noopRelease = async (): Promise<void> => {};

export class RedisConcurrencyLimiter implements ConcurrencyLimiter {
  readonly #prefix: string;
  readonly #leaseMs: number;

  /** `leaseMs`: longer than any request may hold a slot (default 15 minutes); a dead replica's slots end then. */
  constructor(
    private readonly redis: Redis,
    options: RedisLimiterOptions & { leaseMs?: number } = {},
  ) {
    this.#prefix = `${options.prefix ?? "tts:"}inflight:`;
    this.#leaseMs = Math.max(1, Math.trunc(options.leaseMs ?? 15 * 60_000));
  }

  async acquire(key: string, max: number): Promise<ConcurrencyPermit> {
    if (!Number.isSafeInteger(max) || max < 0) throw new RangeError(`concurrency max must be an integer ≥ 0: ${max}`);
    const set = this.#prefix + key;
    const permit = randomUUID();
    const [admitted, inFlight] = (await decide(ACQUIRE, this.redis, [set], [max, permit, this.#leaseMs])) as [
      number,
      number,
    ];
    if (admitted !== 1) return { allowed: false, inFlight, limit: max, release: noopRelease };
    let released = false;
    return {
      allowed: true,
      inFlight,
      limit: max,
      release: async () => {
        if (released) return;
        released = true;
        // Called in `finally` after the response is decided: a Redis that is down now must not turn it into an
        // error. The permit's lease frees the slot anyway.
        await this.redis.zrem(set, permit).catch(() => {});
      },
    };
  }
}
