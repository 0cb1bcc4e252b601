import type { LoadBalancer, NodeTable } from "../../core/routing/balancer.ts";
import type { BreakerState, CircuitBreakers } from "../../core/routing/breaker.ts";
import type { VoiceInfo } from "../../http/deps.ts";
import { type BreakerReport, nodeConfigs, type RoutingSnapshot } from "./routing-snapshot.ts";

/** What an isolate needs from the node-health object (a Durable Object stub, or a fake in tests). */
export interface NodeHealthClient {
  snapshot(): Promise<RoutingSnapshot>;
  report(reports: BreakerReport[]): Promise<RoutingSnapshot>;
  /** a snapshot with node reports at most `maxAgeMs` old (a health round first if need be) */
  fresh?(maxAgeMs: number): Promise<RoutingSnapshot>;
}

export interface SharedRoutingOptions {
  /** a stub per call: a Durable Object stub belongs to the request that made it */
  client: () => NodeHealthClient;
  /** how old the isolate's copy may get before a request refreshes it (in the background) */
  ttlMs: number;
  now?: () => number;
  log?: (line: Record<string, unknown>) => void;
}

type WaitUntil = (promise: Promise<unknown>) => void;

/**
 * An isolate's side of shared node health. The balancer and breakers stay local and synchronous (no round trip to
 * pick a node); this keeps them in line with the node-health object:
 *
 * - a snapshot (node list, health, load, breaker state, voices) is fetched before the isolate's first request and
 *   refreshed in the background once older than `ttlMs`;
 * - a breaker that opens here, or a probe that succeeds here, is reported to the object after the response, so the
 *   other isolates stop (or resume) sending to that node within their next refresh.
 */
export class SharedRouting {
  readonly #o: Required<Omit<SharedRoutingOptions, "log">> & Pick<SharedRoutingOptions, "log">;
  #attached: { balancer: LoadBalancer; nodes: NodeTable; breakers: CircuitBreakers } | null = null;
  #voices: VoiceInfo[] = [];
  #syncedAt = Number.NEGATIVE_INFINITY;
  #refreshing = false;
  #applying = false;
  readonly #pending: BreakerReport[] = [];
  /** when this isolate's own breaker last opened per node: a snapshot older than that must not close it again */
  readonly #openedAt = new Map<string, number>();

  constructor(options: SharedRoutingOptions) {
    this.#o = { now: Date.now, ...options };
  }

  /** The breakers' `onStateChange`: records transitions to report (not those this class applies itself). */
  readonly onStateChange = (nodeId: string, from: BreakerState, to: BreakerState): void => {
    if (this.#applying) return;
    if (to === "open") {
      this.#openedAt.set(nodeId, this.#o.now());
      this.#pending.push({ nodeId, event: "ejected" });
    } else if (from === "half_open" && to === "closed") {
      this.#pending.push({ nodeId, event: "recovered" });
    }
  };

  attach(parts: { balancer: LoadBalancer; nodes: NodeTable; breakers: CircuitBreakers }): void {
    this.#attached = parts;
  }

  voices(): VoiceInfo[] {
    return this.#voices;
  }

  get synced(): boolean {
    return this.#syncedAt > Number.NEGATIVE_INFINITY;
  }

  /**
   * Call before a request. The isolate's first requests wait for a snapshot (each fetches its own: a promise made in
   * one request must not be awaited by another); later ones only start a background refresh when it is stale.
   */
  async beforeRequest(waitUntil: WaitUntil): Promise<void> {
    if (!this.synced) {
      // Without a snapshot the isolate knows no node: the request still runs (admin, health, 503 for synthesis).
      await this.sync().catch((e: unknown) =>
        this.#o.log?.({ level: "error", msg: "no routing snapshot", error: String(e) }),
      );
      return;
    }
    if (this.#refreshing || this.#o.now() - this.#syncedAt < this.#o.ttlMs) return;
    this.#refreshing = true;
    waitUntil(
      this.sync()
        .catch((e: unknown) => this.#o.log?.({ level: "warn", msg: "routing refresh failed", error: String(e) }))
        .finally(() => {
          this.#refreshing = false;
        }),
    );
  }

  /** Call after a request: sends the breaker transitions it caused, without delaying the response. */
  afterRequest(waitUntil: WaitUntil): void {
    if (this.#pending.length === 0) return;
    const reports = this.#pending.splice(0);
    const requestedAt = this.#o.now();
    waitUntil(
      this.#o
        .client()
        .report(reports)
        .then((snapshot) => this.apply(snapshot, requestedAt))
        .catch((e: unknown) => this.#o.log?.({ level: "warn", msg: "breaker report failed", error: String(e) })),
    );
  }

  async sync(): Promise<void> {
    const requestedAt = this.#o.now();
    this.apply(await this.#o.client().snapshot(), requestedAt);
  }

  /** Node reports at most `maxAgeMs` old, now (the batch feeder's `refreshHealth`). */
  async refresh(maxAgeMs: number): Promise<void> {
    const requestedAt = this.#o.now();
    const client = this.#o.client();
    this.apply(await (client.fresh ? client.fresh(maxAgeMs) : client.snapshot()), requestedAt);
  }

  /** Applies a snapshot taken no earlier than `requestedAt` to the local table and breakers. */
  apply(snapshot: RoutingSnapshot, requestedAt: number): void {
    const parts = this.#attached;
    if (!parts) throw new Error("SharedRouting.apply before attach");
    const now = this.#o.now();
    this.#applying = true;
    try {
      parts.balancer.setNodes(nodeConfigs(snapshot.nodes));
      for (const n of snapshot.nodes) {
        parts.nodes.setUp(n.id, n.up);
        parts.nodes.setDraining(n.id, n.draining);
        if (n.lastReportMs !== null) {
          const report = {
            queueDepth: n.queueDepth,
            inFlight: n.remoteInFlight,
            freeSlots: n.freeSlots,
            ready: n.ready,
          };
          parts.nodes.reportHealth(n.id, report, n.lastReportMs);
        }
        const local = parts.breakers.state(n.id);
        const shared = n.breaker.state;
        if (local === "closed" && shared === "open") {
          parts.breakers.forceOpen(n.id, Math.max(0, (n.breaker.openUntilMs ?? now) - now));
        } else if (local === "closed" && shared === "half_open") {
          // Half-open here too: this isolate may send its own probe.
          parts.breakers.forceOpen(n.id, 0);
        } else if (local !== "closed" && shared === "closed" && (this.#openedAt.get(n.id) ?? 0) < requestedAt) {
          parts.breakers.reset(n.id);
        }
      }
      if (snapshot.voices.length > 0) this.#voices = snapshot.voices;
      this.#syncedAt = Math.max(this.#syncedAt, requestedAt);
    } finally {
      this.#applying = false;
    }
  }
}
