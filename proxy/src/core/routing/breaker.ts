/**
 * Per-node circuit breakers for the GPU pool, with Envoy outlier-detection semantics:
 *
 * - closed → open after `consecutiveFailures` failures in a row, OR when the failure ratio over a sliding window
 *   reaches `failureRatio` with at least `minRequests` requests in it;
 * - open for `baseOpenMs × 2^(ejections − 1)`, capped at `maxOpenMs` (Envoy `base_ejection_time` × ejection count);
 *   the ejection count decays by one per `ejectionDecayMs` spent closed, so a node that recovers is forgiven;
 * - then half-open: up to `halfOpenProbes` real requests are let through; one success closes, one failure re-opens
 *   with a longer time;
 * - at most `maxEjectionPercent` % of a pool's nodes are ejected (open or half-open) at once, but always at least one
 *   (Envoy `max_ejection_percent`): an ejection beyond that is refused and counted, so a pool-wide problem such as a
 *   bad deploy or an overloaded upstream degrades instead of going dark.
 *
 * There are no timers: open → half-open happens lazily when the node is next looked at, with the injected clock.
 *
 * Usage around an upstream call (the balancer's `UpstreamLease` does this for you):
 *
 * @example
 * const permit = breakers.acquire(node.id); // null: open, or half-open with every probe slot taken
 * if (!permit) return tryAnotherNode();
 * try {
 *   const res = await send(node);
 *   if (res.status >= 500 && res.status !== 503) permit.failure(); // 503 + Retry-After is backpressure
 *   else permit.success();
 * } catch (e) {
 *   if (clientAborted) permit.release(); // no verdict on the node
 *   else permit.failure();
 * }
 */

export type BreakerState = "closed" | "open" | "half_open";

export interface BreakerOptions {
  now: () => number;
  /** failures in a row that open a closed breaker (default 5, Envoy `consecutive_5xx`) */
  consecutiveFailures?: number;
  /** failure ratio over the window that opens it (default 0.5) … */
  failureRatio?: number;
  /** … once the window holds at least this many requests (default 20) */
  minRequests?: number;
  /** the sliding window's length (default 10 000 ms), kept as `windowBuckets` buckets (default 10) */
  windowMs?: number;
  windowBuckets?: number;
  /** first open time (default 30 000 ms); doubles per ejection up to `maxOpenMs` (default 300 000 ms) */
  baseOpenMs?: number;
  maxOpenMs?: number;
  /** a closed node's ejection count drops by one per this many ms (default 60 000) */
  ejectionDecayMs?: number;
  /** requests let through while half-open (default 1) */
  halfOpenProbes?: number;
  /** the most of a pool that may be ejected at once, in % (default 10; at least one node always may be) */
  maxEjectionPercent?: number;
  /** called on every state change (for logs and metrics) */
  onStateChange?: (nodeId: string, from: BreakerState, to: BreakerState) => void;
}

/** A right to send one request to a node. The first verdict counts; later calls are ignored. */
export interface BreakerPermit {
  readonly nodeId: string;
  /** true when this request is a half-open probe */
  readonly probe: boolean;
  success(): void;
  failure(): void;
  /** no verdict (the client went away, or the request was never sent): frees a probe slot */
  release(): void;
}

export interface BreakerSnapshot {
  nodeId: string;
  pool: string;
  state: BreakerState;
  consecutiveFailures: number;
  windowRequests: number;
  windowFailures: number;
  /** the current backoff multiplier (decays while healthy) */
  ejections: number;
  /** ejections since the breaker was created */
  totalEjections: number;
  /** ejections refused by the max-ejection share */
  refusedEjections: number;
  /** when an open breaker turns half-open (Unix ms), else null */
  openUntilMs: number | null;
  probesInFlight: number;
  totalSuccesses: number;
  totalFailures: number;
}

interface NodeBreaker {
  pool: string;
  state: BreakerState;
  /** bumped on every state change, so verdicts from requests started in an earlier state are not misapplied */
  generation: number;
  consecutive: number;
  buckets: { epoch: number; ok: number; fail: number }[];
  ejections: number;
  lastDecayMs: number;
  totalEjections: number;
  refusedEjections: number;
  openUntilMs: number;
  probesInFlight: number;
  totalSuccesses: number;
  totalFailures: number;
}

export class CircuitBreakers {
  readonly #nodes = new Map<string, NodeBreaker>();
  readonly #o: Required<Omit<BreakerOptions, "onStateChange">> & Pick<BreakerOptions, "onStateChange">;
  readonly #bucketMs: number;

  constructor(options: BreakerOptions) {
    this.#o = {
      consecutiveFailures: 5,
      failureRatio: 0.5,
      minRequests: 20,
      windowMs: 10_000,
      windowBuckets: 10,
      baseOpenMs: 30_000,
      maxOpenMs: 300_000,
      ejectionDecayMs: 60_000,
      halfOpenProbes: 1,
      maxEjectionPercent: 10,
      ...options,
    };
    const o = this.#o;
    if (o.consecutiveFailures < 1 || o.minRequests < 1 || o.halfOpenProbes < 1 || o.windowBuckets < 1) {
      throw new RangeError("breaker: thresholds, probes and buckets must be ≥ 1");
    }
    if (!(o.failureRatio > 0 && o.failureRatio <= 1)) throw new RangeError("breaker: failureRatio must be in (0, 1]");
    if (!(o.maxEjectionPercent >= 0 && o.maxEjectionPercent <= 100)) {
      throw new RangeError("breaker: maxEjectionPercent must be in [0, 100]");
    }
    this.#bucketMs = o.windowMs / o.windowBuckets;
  }

  /** Replaces the node set (new nodes start closed; kept nodes keep their state; removed nodes are forgotten). */
  setNodes(nodes: readonly { id: string; pool: string }[]): void {
    const keep = new Set(nodes.map((n) => n.id));
    for (const id of this.#nodes.keys()) if (!keep.has(id)) this.#nodes.delete(id);
    for (const n of nodes) this.addNode(n.id, n.pool);
  }

  addNode(id: string, pool = "shared"): void {
    const existing = this.#nodes.get(id);
    if (existing) {
      existing.pool = pool;
      return;
    }
    this.#nodes.set(id, {
      pool,
      state: "closed",
      generation: 0,
      consecutive: 0,
      buckets: Array.from({ length: this.#o.windowBuckets }, () => ({ epoch: -1, ok: 0, fail: 0 })),
      ejections: 0,
      lastDecayMs: this.#o.now(),
      totalEjections: 0,
      refusedEjections: 0,
      openUntilMs: 0,
      probesInFlight: 0,
      totalSuccesses: 0,
      totalFailures: 0,
    });
  }

  removeNode(id: string): void {
    this.#nodes.delete(id);
  }

  state(id: string): BreakerState | undefined {
    const n = this.#nodes.get(id);
    return n ? this.#refresh(id, n).state : undefined;
  }

  /** Whether `acquire` would succeed now (for the balancer's filter). Unknown nodes cannot be routed to. */
  canRoute(id: string): boolean {
    const n = this.#nodes.get(id);
    if (!n) return false;
    this.#refresh(id, n);
    return n.state === "closed" || (n.state === "half_open" && n.probesInFlight < this.#o.halfOpenProbes);
  }

  /** Takes a permit for one request, or null when the node must not be used now. */
  acquire(id: string): BreakerPermit | null {
    const n = this.#nodes.get(id);
    if (!n || !this.canRoute(id)) return null;
    const probe = n.state === "half_open";
    if (probe) n.probesInFlight++;
    const generation = n.generation;
    let settled = false;
    const settle = (verdict: "success" | "failure" | "release") => {
      if (settled) return;
      settled = true;
      const current = this.#nodes.get(id);
      if (current !== n) return; // the node was removed meanwhile
      if (probe && n.generation === generation) n.probesInFlight--;
      if (verdict === "release") return;
      if (verdict === "success") n.totalSuccesses++;
      else n.totalFailures++;
      // A verdict from a request admitted in an earlier state (e.g. in flight when the node was ejected) is counted
      // in the totals but does not move the state machine.
      if (n.generation !== generation) return;
      this.#apply(id, n, verdict === "success");
    };
    return {
      nodeId: id,
      probe,
      success: () => settle("success"),
      failure: () => settle("failure"),
      release: () => settle("release"),
    };
  }

  /** A failure observed outside a permit (e.g. a failed active health check). Re-opens a half-open breaker. */
  recordFailure(id: string): void {
    const n = this.#nodes.get(id);
    if (!n) return;
    this.#refresh(id, n);
    n.totalFailures++;
    if (n.state !== "open") this.#apply(id, n, false);
  }

  /** A success observed outside a permit. Counts only while closed: closing a breaker takes a real probe. */
  recordSuccess(id: string): void {
    const n = this.#nodes.get(id);
    if (!n) return;
    this.#refresh(id, n);
    n.totalSuccesses++;
    if (n.state === "closed") this.#apply(id, n, true);
  }

  /** Admin: eject now for `ms` (default the next backoff step), bypassing the share limit. */
  forceOpen(id: string, ms?: number): void {
    const n = this.#nodes.get(id);
    if (!n) return;
    this.#open(id, n, ms);
  }

  /** Admin: close and forget the failure history and backoff. */
  reset(id: string): void {
    const n = this.#nodes.get(id);
    if (!n) return;
    n.ejections = 0;
    this.#close(id, n);
  }

  snapshot(): BreakerSnapshot[] {
    return [...this.#nodes.keys()].flatMap((id) => {
      const s = this.get(id);
      return s ? [s] : [];
    });
  }

  get(id: string): BreakerSnapshot | undefined {
    const n = this.#nodes.get(id);
    if (!n) return undefined;
    this.#refresh(id, n);
    const { total, fail } = this.#window(n);
    return {
      nodeId: id,
      pool: n.pool,
      state: n.state,
      consecutiveFailures: n.consecutive,
      windowRequests: total,
      windowFailures: fail,
      ejections: n.ejections,
      totalEjections: n.totalEjections,
      refusedEjections: n.refusedEjections,
      openUntilMs: n.state === "open" ? n.openUntilMs : null,
      probesInFlight: n.probesInFlight,
      totalSuccesses: n.totalSuccesses,
      totalFailures: n.totalFailures,
    };
  }

  /** Lazy time-driven transitions: open → half-open when the time is up; backoff decay while closed. */
  #refresh(id: string, n: NodeBreaker): NodeBreaker {
    const now = this.#o.now();
    if (n.state === "open" && now >= n.openUntilMs) this.#transition(id, n, "half_open");
    if (n.state === "closed" && n.ejections > 0) {
      const steps = Math.floor((now - n.lastDecayMs) / this.#o.ejectionDecayMs);
      if (steps > 0) {
        n.ejections = Math.max(0, n.ejections - steps);
        n.lastDecayMs += steps * this.#o.ejectionDecayMs;
      }
    }
    return n;
  }

  #apply(id: string, n: NodeBreaker, ok: boolean): void {
    if (n.state === "half_open") {
      if (ok) this.#close(id, n);
      else this.#open(id, n);
      return;
    }
    if (n.state !== "closed") return;
    const bucket = this.#bucket(n);
    if (ok) {
      bucket.ok++;
      n.consecutive = 0;
      return;
    }
    bucket.fail++;
    n.consecutive++;
    const { total, fail } = this.#window(n);
    const tripped =
      n.consecutive >= this.#o.consecutiveFailures ||
      (total >= this.#o.minRequests && fail / total >= this.#o.failureRatio);
    if (!tripped) return;
    if (this.#shareAllows(n.pool)) this.#open(id, n);
    else n.refusedEjections++;
  }

  #shareAllows(pool: string): boolean {
    let size = 0;
    let ejected = 0;
    for (const [id, m] of this.#nodes) {
      if (m.pool !== pool) continue;
      size++;
      if (this.#refresh(id, m).state !== "closed") ejected++;
    }
    if (ejected === 0) return true;
    return ((ejected + 1) * 100) / size <= this.#o.maxEjectionPercent;
  }

  #open(id: string, n: NodeBreaker, ms?: number): void {
    n.ejections++;
    n.totalEjections++;
    const backoff = Math.min(this.#o.baseOpenMs * 2 ** (n.ejections - 1), this.#o.maxOpenMs);
    n.openUntilMs = this.#o.now() + (ms ?? backoff);
    this.#transition(id, n, "open");
  }

  #close(id: string, n: NodeBreaker): void {
    n.consecutive = 0;
    for (const b of n.buckets) Object.assign(b, { epoch: -1, ok: 0, fail: 0 });
    n.lastDecayMs = this.#o.now();
    this.#transition(id, n, "closed");
  }

  #transition(id: string, n: NodeBreaker, to: BreakerState): void {
    const from = n.state;
    n.state = to;
    n.generation++;
    n.probesInFlight = 0;
    if (from !== to) this.#o.onStateChange?.(id, from, to);
  }

  #bucket(n: NodeBreaker) {
    const epoch = Math.floor(this.#o.now() / this.#bucketMs);
    const b = n.buckets[epoch % n.buckets.length] ?? { epoch, ok: 0, fail: 0 };
    if (b.epoch !== epoch) Object.assign(b, { epoch, ok: 0, fail: 0 });
    return b;
  }

  #window(n: NodeBreaker): { total: number; fail: number } {
    const oldest = Math.floor(this.#o.now() / this.#bucketMs) - n.buckets.length + 1;
    let ok = 0;
    let fail = 0;
    for (const b of n.buckets) {
      if (b.epoch < oldest) continue;
      ok += b.ok;
      fail += b.fail;
    }
    return { total: ok + fail, fail };
  }
}
