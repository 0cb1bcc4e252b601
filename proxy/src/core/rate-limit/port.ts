/**
 * Rate-limit ports. The app talks only to these; the in-memory implementations live in `gcra.ts` and the edge
 * (Durable Object) implementation must pass the same `runRateLimiterContract` suite (`contract.ts`).
 *
 * Throttling is an expected outcome, so it comes back as a value (`allowed: false`), never as an exception. Only
 * programmer errors (a non-positive rate, a negative or fractional cost) throw a `RangeError`.
 */

/**
 * A token-bucket-shaped policy: `burst` units may be spent at once, and they come back at `ratePerSecond`.
 * GCRA enforces it exactly (see `gcraDecide`).
 */
export interface RateLimitPolicy {
  /** sustained rate, units per second (> 0; may be fractional, e.g. 0.5 = one unit every 2 s) */
  ratePerSecond: number;
  /** the most units admitted at once: a positive integer */
  burst: number;
}

/** Why a request was refused. `cost_exceeds_limit` can never succeed: answer 413/400 rather than 429. */
export type RateLimitDenial = "throttled" | "cost_exceeds_limit";

export interface RateLimitResult {
  allowed: boolean;
  /** present only when `allowed` is false */
  reason?: RateLimitDenial;
  /** the policy's burst: the quota a client could spend at once when idle */
  limit: number;
  /** whole units still available right now, after this decision */
  remaining: number;
  /** seconds (rounded up) until the bucket is full again; the RateLimit field's `t` */
  resetSeconds: number;
  /** exact milliseconds until a request of the same cost would be admitted; 0 when allowed */
  retryAfterMs: number;
  /** `retryAfterMs` rounded up to whole seconds (at least 1 when denied): the `Retry-After` value; 0 when allowed */
  retryAfterSeconds: number;
}

export interface RateLimiter {
  /**
   * Spends `cost` units of `key`'s quota if they are available; refuses without spending anything otherwise.
   * `cost = 0` reports the state without changing it. `now` (Unix ms) overrides the implementation's clock, which
   * is what makes the contract suite deterministic; in production leave it out.
   *
   * @example
   * const r = await limiter.limit(`ip:${ip}`, { ratePerSecond: 5, burst: 10 });
   * if (!r.allowed) throw new ProxyError("RATE_LIMITED", "slow down", { retryAfterSeconds: r.retryAfterSeconds });
   */
  limit(key: string, policy: RateLimitPolicy, cost?: number, now?: number): Promise<RateLimitResult>;
}

/** The answer to `ConcurrencyLimiter.acquire`. `release` is always safe to call, once or many times. */
export interface ConcurrencyPermit {
  allowed: boolean;
  /** requests in flight for the key, counting this one if it was admitted */
  inFlight: number;
  limit: number;
  /** gives the slot back (idempotent; a no-op when the permit was refused) — call it in `finally` */
  release(): Promise<void>;
}

/**
 * Caps requests in flight per key (e.g. per API key: synthesis holds a GPU slot for seconds, so a request-rate limit
 * alone does not bound the load a customer can put on the pool).
 *
 * @example
 * const permit = await inflight.acquire(`key:${keyId}`, plan.maxConcurrent);
 * if (!permit.allowed) throw new ProxyError("TOO_MANY_IN_FLIGHT", "too many concurrent requests");
 * try { return await synthesize(); } finally { await permit.release(); }
 */
export interface ConcurrencyLimiter {
  acquire(key: string, max: number): Promise<ConcurrencyPermit>;
}

/** Lets everything through: for tests and for deployments that rate-limit elsewhere. */
export class NoopRateLimiter implements RateLimiter {
  async limit(_key: string, policy: RateLimitPolicy): Promise<RateLimitResult> {
    return {
      allowed: true,
      limit: policy.burst,
      remaining: policy.burst,
      resetSeconds: 0,
      retryAfterMs: 0,
      retryAfterSeconds: 0,
    };
  }
}

/** Checks a policy and a cost; throws `RangeError` on programmer errors (they are configuration bugs, not traffic). */
export function assertValidPolicy(policy: RateLimitPolicy, cost: number): void {
  if (!Number.isFinite(policy.ratePerSecond) || policy.ratePerSecond <= 0) {
    throw new RangeError(`rate limit: ratePerSecond must be a positive number, got ${policy.ratePerSecond}`);
  }
  if (!Number.isSafeInteger(policy.burst) || policy.burst < 1) {
    throw new RangeError(`rate limit: burst must be a positive integer, got ${policy.burst}`);
  }
  if (!Number.isSafeInteger(cost) || cost < 0) {
    throw new RangeError(`rate limit: cost must be a non-negative integer, got ${cost}`);
  }
}
