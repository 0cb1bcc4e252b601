import { DurableObject } from "cloudflare:workers";
import { gcraDecide } from "../../core/rate-limit/gcra.ts";
import type { RateLimitPolicy, RateLimitResult } from "../../core/rate-limit/port.ts";

/** What `acquire` answers; `leaseId` is set when a slot was taken. */
export interface LeaseGrant {
  allowed: boolean;
  inFlight: number;
  limit: number;
  leaseId?: string;
}

const TAT = "tat";
const UNCONFIRMED = { allowUnconfirmed: true };
const LEASE = "lease:";

/**
 * One rate-limit key (`ip:…` or `key:…`): its GCRA state and, for API keys, the requests in flight. Every isolate in
 * every location that limits this key talks to this one object, and a Durable Object runs one event at a time, so the
 * read-decide-write below is atomic and the limit is exact across the whole deployment (it does not multiply by
 * isolates or locations).
 *
 * The state is kept in memory (the decision needs no storage read) and written through to the object's SQLite
 * storage, so an object that is evicted and restarted resumes with it. Writes are `allowUnconfirmed`: an answer does
 * not wait for its write to be replicated (it would add that wait to every request, twice); the price is that a
 * machine crash can forget the last few milliseconds of decisions, which fails open by those units only.
 * In-flight slots are leases with an expiry: an isolate that dies mid-request cannot leak a slot for ever.
 */
export class LimiterObject extends DurableObject<unknown> {
  #tat: number | undefined;
  readonly #leases = new Map<string, number>();
  #alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env);
    this.#tat = ctx.storage.kv.get<number>(TAT);
    for (const [key, expiresAt] of ctx.storage.kv.list<number>({ prefix: LEASE })) {
      this.#leases.set(key.slice(LEASE.length), expiresAt);
    }
  }

  /**
   * GCRA for this key. `now` is a test seam (the contract suite drives a simulated clock); production leaves it out
   * and the object's own clock decides, the same for every caller.
   */
  limit(policy: RateLimitPolicy, cost: number, now?: number): RateLimitResult {
    const at = now ?? Date.now();
    const { tatMs, result } = gcraDecide(this.#tat, at, policy, cost);
    if (tatMs !== this.#tat) {
      this.#tat = tatMs;
      if (tatMs === undefined || tatMs <= at) void this.ctx.storage.delete(TAT, UNCONFIRMED);
      else void this.ctx.storage.put(TAT, tatMs, UNCONFIRMED);
      if (now === undefined && tatMs !== undefined && tatMs > at) this.#armCleanup(tatMs);
    }
    return result;
  }

  /** Takes one of `max` in-flight slots for `ttlMs` (longer than any request), or refuses. */
  acquire(max: number, ttlMs: number, now?: number): LeaseGrant {
    const at = now ?? Date.now();
    this.#expireLeases(at);
    if (this.#leases.size >= max) return { allowed: false, inFlight: this.#leases.size, limit: max };
    const leaseId = crypto.randomUUID();
    const expiresAt = at + ttlMs;
    this.#leases.set(leaseId, expiresAt);
    void this.ctx.storage.put(LEASE + leaseId, expiresAt, UNCONFIRMED);
    if (now === undefined) this.#armCleanup(expiresAt);
    return { allowed: true, inFlight: this.#leases.size, limit: max, leaseId };
  }

  /** Gives a slot back; releasing an unknown or already released lease does nothing. */
  release(leaseId: string): void {
    if (this.#leases.delete(leaseId)) void this.ctx.storage.delete(LEASE + leaseId, UNCONFIRMED);
  }

  /** Drops a full bucket and expired leases, so an idle key leaves no stored state behind. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    this.#alarmAt = null;
    this.#expireLeases(now);
    if (this.#tat !== undefined && this.#tat <= now) {
      this.#tat = undefined;
      void this.ctx.storage.delete(TAT, UNCONFIRMED);
    }
    const pending = [...this.#leases.values(), ...(this.#tat === undefined ? [] : [this.#tat])];
    if (pending.length > 0) this.#armCleanup(Math.min(...pending));
  }

  #expireLeases(now: number): void {
    for (const [id, expiresAt] of this.#leases) {
      if (expiresAt > now) continue;
      this.#leases.delete(id);
      void this.ctx.storage.delete(LEASE + id, UNCONFIRMED);
    }
  }

  /** One alarm at a time, moved earlier only: a write per bucket refill, not per request. */
  #armCleanup(at: number): void {
    if (this.#alarmAt !== null && this.#alarmAt <= at) return;
    this.#alarmAt = at;
    void this.ctx.storage.setAlarm(at);
  }
}
