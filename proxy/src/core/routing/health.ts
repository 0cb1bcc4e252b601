import { z } from "zod";
import type { HealthReport, NodeTable } from "./balancer.ts";
import type { CircuitBreakers } from "./breaker.ts";

/**
 * Active health checks: `GET {url}/healthz` on every node, every `intervalMs`, each with a `timeoutMs` deadline.
 *
 * - A valid body (200, or 503 while the node drains) updates the node's load and readiness in the `NodeTable`.
 * - A failure (network error, timeout, other status, unparsable body) is recorded in the breaker (so a dead node is
 *   ejected with backoff and shows up in the breaker metrics); `unhealthyThreshold` failures in a row mark it down.
 * - `healthyThreshold` successes in a row mark a down node up again, and reset its breaker: a node that was
 *   unreachable and now answers has usually restarted, and must not sit out a long backoff. A node whose /healthz
 *   stays fine while its /synthesize fails never goes down here, so its breaker backoff is untouched.
 *
 * Timers come from an injected `Scheduler` (tests drive it by hand). On Node pass `timerScheduler`; on Workers there
 * is no background timer, so call `checkAll()` from a cron trigger or a Durable Object alarm.
 */

/** How /healthz looks (gpu-node/src/http/app.ts); unknown fields are ignored. */
const HealthzBody = z.object({
  queue_depth: z.number().int().nonnegative(),
  in_flight: z.number().int().nonnegative(),
  free_slots: z.number().int().nonnegative(),
  ready: z.boolean(),
});

export type HealthFailure = "timeout" | "network" | "bad_status" | "bad_body";

export type HealthCheckResult =
  | { nodeId: string; ok: true; status: number; report: HealthReport; atMs: number }
  | { nodeId: string; ok: false; error: HealthFailure; status?: number; message: string; atMs: number };

/** Parses a /healthz answer. 503 is accepted with a valid body: that is a draining node, alive but not ready. */
export function parseHealthz(
  status: number,
  body: unknown,
): { ok: true; report: HealthReport } | { ok: false; error: HealthFailure; message: string } {
  const parsed = HealthzBody.safeParse(body);
  if (status !== 200 && !(status === 503 && parsed.success)) {
    return { ok: false, error: "bad_status", message: `GET /healthz answered ${status}` };
  }
  if (!parsed.success) return { ok: false, error: "bad_body", message: "unexpected /healthz body" };
  const b = parsed.data;
  return {
    ok: true,
    report: { queueDepth: b.queue_depth, inFlight: b.in_flight, freeSlots: b.free_slots, ready: b.ready },
  };
}

/** Timers, injected. Each method returns a function that cancels what it scheduled. */
export interface Scheduler {
  every(intervalMs: number, task: () => void): () => void;
  after(delayMs: number, task: () => void): () => void;
}

/** The web-standard timers (Node, browsers; not usable outside a request on Workers). */
export const timerScheduler: Scheduler = {
  every(intervalMs, task) {
    const handle = setInterval(task, intervalMs);
    return () => clearInterval(handle);
  },
  after(delayMs, task) {
    const handle = setTimeout(task, delayMs);
    return () => clearTimeout(handle);
  },
};

export type FetchLike = (
  url: string,
  init: { signal: AbortSignal; headers: Record<string, string> },
) => Promise<Response>;

export interface HealthCheckerOptions {
  table: NodeTable;
  /** failed checks are recorded as breaker failures; recoveries reset the breaker */
  breakers?: CircuitBreakers;
  fetch: FetchLike;
  scheduler: Scheduler;
  now: () => number;
  intervalMs?: number;
  timeoutMs?: number;
  /** failures in a row before a node is marked down (default 2) */
  unhealthyThreshold?: number;
  /** successes in a row before a down node is marked up (default 1) */
  healthyThreshold?: number;
  onResult?: (result: HealthCheckResult) => void;
}

interface CheckState {
  running: boolean;
  failures: number;
  successes: number;
  last?: HealthCheckResult;
}

class HealthTimeout extends Error {}

export class HealthChecker {
  readonly #o: Required<Omit<HealthCheckerOptions, "breakers" | "onResult">> &
    Pick<HealthCheckerOptions, "breakers" | "onResult">;
  readonly #state = new Map<string, CheckState>();
  #stop: (() => void) | null = null;

  constructor(options: HealthCheckerOptions) {
    this.#o = { intervalMs: 5_000, timeoutMs: 2_000, unhealthyThreshold: 2, healthyThreshold: 1, ...options };
  }

  /** Checks every node now, then every `intervalMs`. Idempotent. */
  start(): void {
    if (this.#stop) return;
    this.#stop = this.#o.scheduler.every(this.#o.intervalMs, () => void this.checkAll());
    void this.checkAll();
  }

  stop(): void {
    this.#stop?.();
    this.#stop = null;
  }

  /** The last result per node (for the admin API). */
  lastResults(): HealthCheckResult[] {
    return [...this.#state.values()].flatMap((s) => (s.last ? [s.last] : []));
  }

  /** One round over every node; a node whose previous check is still running is skipped. */
  async checkAll(): Promise<HealthCheckResult[]> {
    const ids = new Set(this.#o.table.list().map((n) => n.id));
    for (const id of this.#state.keys()) if (!ids.has(id)) this.#state.delete(id);
    const results = await Promise.all([...ids].map((id) => this.checkNode(id)));
    return results.flatMap((r) => (r ? [r] : []));
  }

  /** Checks one node and applies the result; undefined when the node is unknown or already being checked. */
  async checkNode(id: string): Promise<HealthCheckResult | undefined> {
    const node = this.#o.table.get(id);
    if (!node) return undefined;
    let state = this.#state.get(id);
    if (!state) {
      state = { running: false, failures: 0, successes: 0 };
      this.#state.set(id, state);
    }
    if (state.running) return undefined;
    state.running = true;
    try {
      const result = await this.#probe(id, node.url);
      this.#apply(state, result);
      return result;
    } finally {
      state.running = false;
    }
  }

  async #probe(nodeId: string, url: string): Promise<HealthCheckResult> {
    const controller = new AbortController();
    let cancel = () => {};
    const deadline = new Promise<never>((_, reject) => {
      cancel = this.#o.scheduler.after(this.#o.timeoutMs, () => {
        controller.abort();
        reject(new HealthTimeout());
      });
    });
    deadline.catch(() => {}); // settled by the races below; never unhandled
    try {
      const res = await Promise.race([
        this.#o.fetch(`${url.replace(/\/+$/, "")}/healthz`, {
          signal: controller.signal,
          headers: { accept: "application/json" },
        }),
        deadline,
      ]);
      const body: unknown = await Promise.race([res.json().catch(() => undefined), deadline]);
      const parsed = parseHealthz(res.status, body);
      const atMs = this.#o.now();
      return parsed.ok
        ? { nodeId, ok: true, status: res.status, report: parsed.report, atMs }
        : { nodeId, ok: false, error: parsed.error, status: res.status, message: parsed.message, atMs };
    } catch (e) {
      const timeout = e instanceof HealthTimeout;
      return {
        nodeId,
        ok: false,
        error: timeout ? "timeout" : "network",
        message: timeout ? `no /healthz answer within ${this.#o.timeoutMs} ms` : String(e),
        atMs: this.#o.now(),
      };
    } finally {
      cancel();
    }
  }

  #apply(state: CheckState, result: HealthCheckResult): void {
    const { table, breakers } = this.#o;
    const id = result.nodeId;
    state.last = result;
    if (!table.get(id)) return; // removed while we were checking
    if (result.ok) {
      state.failures = 0;
      state.successes++;
      table.reportHealth(id, result.report, result.atMs);
      if (table.get(id)?.up === false && state.successes >= this.#o.healthyThreshold) {
        table.setUp(id, true);
        breakers?.reset(id);
      }
    } else {
      state.successes = 0;
      state.failures++;
      breakers?.recordFailure(id);
      if (state.failures >= this.#o.unhealthyThreshold) table.setUp(id, false);
    }
    this.#o.onResult?.(result);
  }
}
