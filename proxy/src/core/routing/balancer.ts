import type { BreakerPermit, CircuitBreakers } from "./breaker.ts";

/**
 * Load-aware node choice: least outstanding requests by power-of-two-choices (Mitzenmacher). Picking the less
 * loaded of two random eligible nodes is nearly as good as scanning for the global minimum, and, unlike the global
 * minimum, it does not send every proxy instance's next request to the same node between two health reports.
 *
 * A node's outstanding work = requests this proxy has in flight to it + the queue depth it last reported on
 * /healthz (work other proxy instances gave it), divided by its weight (a node of weight 2 — a bigger GPU, or two —
 * is as loaded with 8 requests as a node of weight 1 with 4).
 */

export interface NodeConfig {
  id: string;
  /** base URL, e.g. http://10.0.0.5:8001 */
  url: string;
  /** routing pool: "shared", or an enterprise customer's dedicated pool */
  pool?: string;
  /** relative capacity (default 1): outstanding work is compared per unit of weight */
  weight?: number;
}

/** What a node said on its last /healthz. */
export interface HealthReport {
  queueDepth: number;
  inFlight: number;
  freeSlots: number;
  /** false while the node drains (it answers 503 to new work) */
  ready: boolean;
}

export interface NodeView {
  id: string;
  url: string;
  pool: string;
  /** relative capacity (1 when not given) */
  weight?: number;
  /** false once the health checker marked it down (nodes start up, so routing works before the first check) */
  up: boolean;
  /** from the node's /healthz `ready` */
  ready: boolean;
  /** set by an operator (admin API): finish in-flight work, take no new requests */
  draining: boolean;
  /** requests this proxy has in flight to the node */
  localInFlight: number;
  /** the node's last reported queue depth (0 until reported) */
  queueDepth: number;
  remoteInFlight: number;
  freeSlots: number;
  lastReportMs: number | null;
}

/** The proxy's view of the GPU nodes: config, health, load. Mutated by the health checker and the balancer. */
export class NodeTable {
  readonly #nodes = new Map<string, NodeView>();

  constructor(nodes: readonly NodeConfig[] = []) {
    this.setNodes(nodes);
  }

  /** Replaces the node set; kept nodes keep their health and load. */
  setNodes(nodes: readonly NodeConfig[]): void {
    const keep = new Set(nodes.map((n) => n.id));
    for (const id of this.#nodes.keys()) if (!keep.has(id)) this.#nodes.delete(id);
    for (const n of nodes) this.upsert(n);
  }

  upsert({ id, url, pool = "shared", weight = 1 }: NodeConfig): void {
    const w = Number.isFinite(weight) && weight > 0 ? weight : 1;
    const existing = this.#nodes.get(id);
    if (existing) {
      existing.url = url;
      existing.pool = pool;
      existing.weight = w;
      return;
    }
    this.#nodes.set(id, {
      id,
      url,
      pool,
      weight: w,
      up: true,
      ready: true,
      draining: false,
      localInFlight: 0,
      queueDepth: 0,
      remoteInFlight: 0,
      freeSlots: 0,
      lastReportMs: null,
    });
  }

  remove(id: string): void {
    this.#nodes.delete(id);
  }

  get(id: string): Readonly<NodeView> | undefined {
    return this.#nodes.get(id);
  }

  list(): Readonly<NodeView>[] {
    return [...this.#nodes.values()];
  }

  reportHealth(id: string, report: HealthReport, atMs: number): void {
    const n = this.#nodes.get(id);
    if (!n) return;
    n.ready = report.ready;
    n.queueDepth = report.queueDepth;
    n.remoteInFlight = report.inFlight;
    n.freeSlots = report.freeSlots;
    n.lastReportMs = atMs;
  }

  setUp(id: string, up: boolean): void {
    const n = this.#nodes.get(id);
    if (n) n.up = up;
  }

  setDraining(id: string, draining: boolean): void {
    const n = this.#nodes.get(id);
    if (n) n.draining = draining;
  }

  /** @internal the balancer's in-flight bookkeeping */
  addInFlight(id: string, delta: 1 | -1): void {
    const n = this.#nodes.get(id);
    if (n) n.localInFlight = Math.max(0, n.localInFlight + delta);
  }
}

/** A node's outstanding work, as the balancer compares it: per unit of weight. */
export const outstanding = (n: Readonly<NodeView>): number => (n.localInFlight + n.queueDepth) / (n.weight ?? 1);

/**
 * Power-of-two-choices over `items`: two distinct random picks, the one with the lower `load` wins (ties: the first
 * pick, which is itself random). `random` returns [0, 1) like Math.random.
 */
export function pickTwoChoices<T>(items: readonly T[], load: (item: T) => number, random: () => number): T | undefined {
  if (items.length <= 1) return items[0];
  const i = Math.floor(random() * items.length);
  let j = Math.floor(random() * (items.length - 1));
  if (j >= i) j++;
  const a = items[i];
  const b = items[j];
  if (a === undefined || b === undefined) return a ?? b;
  return load(b) < load(a) ? b : a;
}

export type UpstreamOutcome = "success" | "failure" | "neutral";

/** One request's hold on a node. Call `done` exactly once (later calls are ignored), e.g. in `finally`. */
export interface UpstreamLease {
  node: Readonly<NodeView>;
  /** this request is a half-open breaker probe */
  probe: boolean;
  /**
   * - "success": the node answered (2xx, or a 4xx about the request itself);
   * - "failure": connect error, timeout, 5xx, malformed audio — counts toward ejection;
   * - "neutral": no verdict on the node (client disconnected; the node's own 503 backpressure).
   */
  done(outcome: UpstreamOutcome): void;
}

export interface LoadBalancerOptions {
  table: NodeTable;
  breakers: CircuitBreakers;
  /** [0, 1), injected so tests are deterministic (default Math.random) */
  random?: () => number;
}

export interface AcquireOptions {
  /** "shared", or the customer's dedicated pool */
  pool: string;
  /** node ids already tried for this request (retry elsewhere after a connect failure or a 503) */
  exclude?: ReadonlySet<string>;
}

/**
 * Picks a node for a request and holds it: the local in-flight count and, when half-open, a breaker probe slot.
 *
 * @example
 * const lease = balancer.acquire({ pool: customer.dedicatedPool ?? "shared" });
 * if (!lease) throw new ProxyError("NO_CAPACITY", "no GPU node available", { retryAfterSeconds: 5 });
 * let outcome: UpstreamOutcome = "failure";
 * try {
 *   const res = await transport.request({ url: `${lease.node.url}/synthesize`, ... });
 *   outcome = res.status >= 500 ? (res.status === 503 ? "neutral" : "failure") : "success";
 * } catch (e) {
 *   outcome = signal.aborted ? "neutral" : "failure";
 * } finally {
 *   lease.done(outcome);
 * }
 */
export class LoadBalancer {
  readonly #table: NodeTable;
  readonly #breakers: CircuitBreakers;
  readonly #random: () => number;

  constructor({ table, breakers, random = Math.random }: LoadBalancerOptions) {
    this.#table = table;
    this.#breakers = breakers;
    this.#random = random;
    breakers.setNodes(table.list());
  }

  /** Replaces the node set in the table and the breakers together. */
  setNodes(nodes: readonly NodeConfig[]): void {
    this.#table.setNodes(nodes);
    this.#breakers.setNodes(this.#table.list());
  }

  /** Nodes that could take a request from `pool` now. */
  eligible({ pool, exclude }: AcquireOptions): Readonly<NodeView>[] {
    const nodes = this.#table.list();
    // Nodes added straight to the table (not via setNodes) get a closed breaker on first sight.
    for (const n of nodes) this.#breakers.addNode(n.id, n.pool);
    return nodes.filter(
      (n) => n.pool === pool && n.up && n.ready && !n.draining && !exclude?.has(n.id) && this.#breakers.canRoute(n.id),
    );
  }

  /** A lease on the chosen node, or null when no node in the pool can take the request (answer 503). */
  acquire(options: AcquireOptions): UpstreamLease | null {
    const candidates = this.eligible(options);
    while (candidates.length > 0) {
      const node = pickTwoChoices(candidates, outstanding, this.#random);
      if (!node) return null;
      const permit = this.#breakers.acquire(node.id);
      if (permit) return this.#lease(node, permit);
      candidates.splice(candidates.indexOf(node), 1); // lost its last probe slot: try the others
    }
    return null;
  }

  #lease(node: Readonly<NodeView>, permit: BreakerPermit): UpstreamLease {
    this.#table.addInFlight(node.id, 1);
    let finished = false;
    return {
      node,
      probe: permit.probe,
      done: (outcome) => {
        if (finished) return;
        finished = true;
        this.#table.addInFlight(node.id, -1);
        if (outcome === "success") permit.success();
        else if (outcome === "failure") permit.failure();
        else permit.release();
      },
    };
  }
}
