import {
  assertValidPolicy,
  type ConcurrencyLimiter,
  type ConcurrencyPermit,
  type RateLimiter,
  type RateLimitPolicy,
  type RateLimitResult,
} from "./port.ts";

/**
 * GCRA (Generic Cell Rate Algorithm, the ATM "virtual scheduling" form): each key stores one number, its
 * theoretical arrival time (TAT). With emission interval T = 1000 / rate ms and tolerance τ = burst × T, a request of
 * cost c at time `now` is admitted iff max(TAT, now) + c·T − now ≤ τ, and then TAT advances by c·T. That is a token
 * bucket of `burst` tokens refilled at `rate`, but with one stored number and no refill loop, which is why it suits a
 * Map, a Durable Object or a SQL row equally. Unlike window counters it is exact: over any interval of length d it
 * admits at most burst + rate × d units.
 */

/** Float slack, in ms: `3 × (1000/3)` must still compare equal to `1000`. Far below any clock resolution. */
const EPSILON_MS = 1e-6;

export interface GcraDecision {
  /**
   * The TAT to store: the new one when units were spent; otherwise the previous one (`undefined` when there was
   * none). A TAT at or before `now` means "bucket full" and may be deleted.
   */
  tatMs: number | undefined;
  result: RateLimitResult;
}

/**
 * The whole GCRA state transition, pure: (stored TAT, now, policy, cost) → (TAT to store, result). Every
 * implementation (memory, Durable Object, SQL) stores `tatMs` per key and calls this.
 *
 * @example
 * const { tatMs, result } = gcraDecide(await storage.get(key), Date.now(), { ratePerSecond: 5, burst: 10 }, 1);
 * if (tatMs !== undefined) await storage.put(key, tatMs);
 */
export function gcraDecide(tatMs: number | undefined, nowMs: number, policy: RateLimitPolicy, cost = 1): GcraDecision {
  assertValidPolicy(policy, cost);
  const interval = 1000 / policy.ratePerSecond;
  const tolerance = policy.burst * interval;
  // A TAT in the past means the bucket refilled completely; the clock may also step backwards, hence max().
  const base = tatMs === undefined ? nowMs : Math.max(tatMs, nowMs);
  const newTat = base + cost * interval;
  const admitAt = newTat - tolerance; // the earliest `now` at which this request fits
  const allowed = cost <= policy.burst && admitAt <= nowMs + EPSILON_MS;
  const stored = allowed ? newTat : base;
  const backlog = Math.max(0, stored - nowMs);

  const remaining = Math.min(policy.burst, Math.max(0, Math.floor((tolerance - backlog) / interval + 1e-9)));
  const resetSeconds = Math.max(0, Math.ceil(backlog / 1000 - 1e-9));
  if (allowed) {
    return {
      tatMs: cost === 0 && tatMs === undefined ? undefined : stored,
      result: { allowed, limit: policy.burst, remaining, resetSeconds, retryAfterMs: 0, retryAfterSeconds: 0 },
    };
  }
  // A cost above the burst never fits; the best a client can do is wait for a full bucket, and it still won't.
  const reason = cost > policy.burst ? "cost_exceeds_limit" : "throttled";
  const retryAfterMs = reason === "throttled" ? admitAt - nowMs : backlog;
  return {
    tatMs,
    result: {
      allowed,
      reason,
      limit: policy.burst,
      remaining,
      resetSeconds,
      retryAfterMs,
      retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000 - 1e-9)),
    },
  };
}

export interface InMemoryRateLimiterOptions {
  now?: () => number;
  /**
   * Hard cap on tracked keys (default 100 000). Expired keys are swept first; past the cap the least recently
   * updated key is forgotten, which resets (fails open) that one key rather than letting memory grow without bound
   * under a flood of distinct IPs.
   */
  maxKeys?: number;
  /** how often expired keys are swept, ms of clock time (default 10 000) */
  sweepIntervalMs?: number;
}

/**
 * GCRA over a `Map<key, TAT>`, for one Node process (or tests). A key is dropped as soon as its bucket is full
 * again (TAT ≤ now), so memory holds only keys that were active within their last `burst / rate` seconds.
 */
export class InMemoryRateLimiter implements RateLimiter {
  readonly #tats = new Map<string, number>();
  readonly #now: () => number;
  readonly #maxKeys: number;
  readonly #sweepIntervalMs: number;
  #lastSweep = Number.NEGATIVE_INFINITY;

  constructor({ now = Date.now, maxKeys = 100_000, sweepIntervalMs = 10_000 }: InMemoryRateLimiterOptions = {}) {
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) throw new RangeError("maxKeys must be a positive integer");
    this.#now = now;
    this.#maxKeys = maxKeys;
    this.#sweepIntervalMs = sweepIntervalMs;
  }

  /** keys currently tracked (for /metrics and tests) */
  get size(): number {
    return this.#tats.size;
  }

  async limit(key: string, policy: RateLimitPolicy, cost = 1, now = this.#now()): Promise<RateLimitResult> {
    if (now - this.#lastSweep >= this.#sweepIntervalMs) this.sweep(now);
    const previous = this.#tats.get(key);
    const { tatMs, result } = gcraDecide(previous, now, policy, cost);
    if (tatMs === undefined || tatMs <= now) {
      this.#tats.delete(key);
    } else if (tatMs !== previous) {
      // delete + set moves the key to the end, so Map order is least-recently-updated first (for eviction).
      this.#tats.delete(key);
      if (this.#tats.size >= this.#maxKeys) this.#evict(now);
      this.#tats.set(key, tatMs);
    }
    return result;
  }

  /** Forgets every key whose bucket has refilled. Runs by itself every `sweepIntervalMs`. */
  sweep(now = this.#now()): void {
    this.#lastSweep = now;
    for (const [key, tat] of this.#tats) if (tat <= now) this.#tats.delete(key);
  }

  #evict(now: number): void {
    this.sweep(now);
    for (const key of this.#tats.keys()) {
      if (this.#tats.size < this.#maxKeys) break;
      this.#tats.delete(key);
    }
  }
}

const noopRelease = async (): Promise<void> => {};

/** In-flight counters per key, for one process. A key's entry disappears when its count returns to zero. */
export class InMemoryConcurrencyLimiter implements ConcurrencyLimiter {
  readonly #counts = new Map<string, number>();

  /** requests in flight for `key` (for /metrics and tests) */
  inFlight(key: string): number {
    return this.#counts.get(key) ?? 0;
  }

  get size(): number {
    return this.#counts.size;
  }

  async acquire(key: string, max: number): Promise<ConcurrencyPermit> {
    if (!Number.isSafeInteger(max) || max < 0) throw new RangeError(`concurrency max must be an integer ≥ 0: ${max}`);
    const current = this.#counts.get(key) ?? 0;
    if (current >= max) return { allowed: false, inFlight: current, limit: max, release: noopRelease };
    this.#counts.set(key, current + 1);
    let released = false;
    return {
      allowed: true,
      inFlight: current + 1,
      limit: max,
      release: async () => {
        if (released) return;
        released = true;
        const left = (this.#counts.get(key) ?? 1) - 1;
        if (left <= 0) this.#counts.delete(key);
        else this.#counts.set(key, left);
      },
    };
  }
}
