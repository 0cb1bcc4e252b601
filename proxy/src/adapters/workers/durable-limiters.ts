import {
  assertValidPolicy,
  type ConcurrencyLimiter,
  type ConcurrencyPermit,
  type RateLimiter,
  type RateLimitPolicy,
  type RateLimitResult,
} from "../../core/rate-limit/port.ts";
import type { LimiterObject } from "./limiter-object.ts";

export interface DurableLimiterOptions {
  /** prepended to every key's object name: separates deployments (or tests) sharing one namespace */
  prefix?: string;
}

const stub = (ns: DurableObjectNamespace<LimiterObject>, name: string) => ns.get(ns.idFromName(name));

/**
 * The rate-limit port over `LimiterObject`s: one object per key, so `ip:203.0.113.7` is limited exactly once for the
 * whole deployment. Each call is one RPC to the key's object (placed near the first isolate that used it).
 *
 * @example
 * const limiter = new DurableRateLimiter(env.LIMITER);
 * const r = await limiter.limit("ip:203.0.113.7", { ratePerSecond: 5, burst: 10 });
 */
export class DurableRateLimiter implements RateLimiter {
  readonly #prefix: string;

  constructor(
    private readonly ns: DurableObjectNamespace<LimiterObject>,
    options: DurableLimiterOptions = {},
  ) {
    this.#prefix = options.prefix ?? "";
  }

  async limit(key: string, policy: RateLimitPolicy, cost = 1, now?: number): Promise<RateLimitResult> {
    // A bad policy is a configuration bug: refuse it here, as the in-memory limiter does, not inside the object.
    assertValidPolicy(policy, cost);
    return stub(this.ns, this.#prefix + key).limit(policy, cost, now);
  }
}

const noopRelease = async (): Promise<void> => {};

/** In-flight caps over the same objects (an API key's rate and its in-flight slots live in one object). */
export class DurableConcurrencyLimiter implements ConcurrencyLimiter {
  readonly #prefix: string;

  /** `leaseTtlMs`: longer than the longest request, so only a dead isolate's slot ever expires. */
  constructor(
    private readonly ns: DurableObjectNamespace<LimiterObject>,
    private readonly leaseTtlMs: number,
    options: DurableLimiterOptions = {},
  ) {
    this.#prefix = options.prefix ?? "";
  }

  async acquire(key: string, max: number): Promise<ConcurrencyPermit> {
    if (!Number.isSafeInteger(max) || max < 0) throw new RangeError(`concurrency max must be an integer ≥ 0: ${max}`);
    const name = this.#prefix + key;
    const grant = await stub(this.ns, name).acquire(max, this.leaseTtlMs);
    const { leaseId } = grant;
    if (!grant.allowed || leaseId === undefined) {
      return { allowed: false, inFlight: grant.inFlight, limit: grant.limit, release: noopRelease };
    }
    let released = false;
    return {
      allowed: true,
      inFlight: grant.inFlight,
      limit: grant.limit,
      release: async () => {
        if (released) return;
        released = true;
        await stub(this.ns, name).release(leaseId);
      },
    };
  }
}
