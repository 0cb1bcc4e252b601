import { DurableObject } from "cloudflare:workers";
import { ensureDefaultPlans } from "../../bootstrap.ts";
import { NodeTable } from "../../core/routing/balancer.ts";
import { CircuitBreakers } from "../../core/routing/breaker.ts";
import { HealthChecker, type HealthCheckResult, timerScheduler } from "../../core/routing/health.ts";
import type { VoiceInfo } from "../../http/deps.ts";
import type { Stores } from "../../store/ports.ts";
import { createD1Stores, openD1 } from "./d1/index.ts";
import { type NodeHealthConfig, parseNodeHealthConfig, type WorkerBindings } from "./env.ts";
import { type BreakerReport, describeNodes, type RoutingSnapshot } from "./routing-snapshot.ts";

/** Health rounds stop once no isolate asked for a snapshot for this long; the cron trigger still runs one a minute. */
const IDLE_AFTER_MS = 60_000;
/** With no voices known (no node answered /info yet), a snapshot asks the nodes again at most this often. */
const VOICES_RETRY_MS = 2_000;

/**
 * The one object holding GPU-node health and breaker state for every isolate and location. It runs the active health
 * checks (`GET /healthz`, on its alarm while there is traffic and on the cron trigger), reloads the node list from D1
 * (so nodes added or drained through the admin API reach every isolate), merges breaker transitions isolates report,
 * and hands out snapshots that isolates cache for `ROUTING_TTL_MS`.
 *
 * On its first start it also registers GPU_NODES and creates the default plans, inside `blockConcurrencyWhile`:
 * one writer, however many isolates start at once.
 */
export class NodeHealthObject extends DurableObject<WorkerBindings> {
  readonly #config: NodeHealthConfig;
  readonly #stores: Stores;
  readonly #table = new NodeTable();
  readonly #breakers = new CircuitBreakers({ now: () => Date.now() });
  readonly #checker: HealthChecker;
  #voices: VoiceInfo[] = [];
  #voicesTriedMs = Number.NEGATIVE_INFINITY;
  #lastDemandMs = 0;
  #alarmArmed = false;
  /** when the last health round started */
  #roundStartedMs = Number.NEGATIVE_INFINITY;

  constructor(ctx: DurableObjectState, env: WorkerBindings) {
    super(ctx, env);
    this.#config = parseNodeHealthConfig(env);
    this.#stores = createD1Stores(openD1(env.DB));
    this.#checker = new HealthChecker({
      table: this.#table,
      breakers: this.#breakers,
      fetch: (url, init) => fetch(url, init),
      scheduler: timerScheduler,
      now: () => Date.now(),
    });
    void ctx.blockConcurrencyWhile(async () => {
      await ensureDefaultPlans(this.#stores, this.#config.PLAN_TIME_ZONE);
      for (const url of this.#config.GPU_NODES) await this.#stores.nodes.add({ url });
      await this.checkNow();
    });
  }

  /** The shared view, for an isolate's routing. Keeps health rounds going while isolates keep asking. */
  async snapshot(): Promise<RoutingSnapshot> {
    this.#lastDemandMs = Date.now();
    if (!this.#alarmArmed) {
      this.#alarmArmed = true;
      await this.ctx.storage.setAlarm(Date.now() + this.#config.HEALTH_INTERVAL_MS);
    }
    if (this.#voices.length === 0 && Date.now() - this.#voicesTriedMs >= VOICES_RETRY_MS) await this.#refreshVoices();
    return this.#snapshot();
  }

  /** Breaker transitions seen by isolates; the merged state reaches every isolate with its next snapshot. */
  report(reports: readonly BreakerReport[]): RoutingSnapshot {
    for (const { nodeId, event } of reports) {
      const state = this.#breakers.state(nodeId);
      if (state === undefined) continue;
      if (event === "ejected") {
        if (state === "closed") this.#breakers.forceOpen(nodeId);
        else if (state === "half_open") this.#breakers.recordFailure(nodeId);
      } else if (state === "half_open") {
        // An isolate's probe succeeded: close through a permit, which keeps the ejection count (backoff) as it is.
        this.#breakers.acquire(nodeId)?.success();
      }
    }
    return this.#snapshot();
  }

  /**
   * A snapshot whose node reports are at most about `maxAgeMs` old: a health round first unless one started that
   * recently (the batch feeder judges spare capacity from the reports). Isolates asking during a round get the
   * snapshot as it is rather than a round each.
   */
  async fresh(maxAgeMs: number): Promise<RoutingSnapshot> {
    if (Date.now() - this.#roundStartedMs > maxAgeMs) await this.checkNow();
    return this.snapshot();
  }

  /** One health round now: reload the node list, check every node, refresh the voices. */
  async checkNow(): Promise<{ results: HealthCheckResult[]; snapshot: RoutingSnapshot }> {
    this.#roundStartedMs = Date.now();
    await this.#reloadNodes();
    const results = await this.#checker.checkAll();
    await this.#refreshVoices();
    return { results, snapshot: this.#snapshot() };
  }

  override async alarm(): Promise<void> {
    this.#alarmArmed = false;
    await this.checkNow();
    if (Date.now() - this.#lastDemandMs < IDLE_AFTER_MS) {
      this.#alarmArmed = true;
      await this.ctx.storage.setAlarm(Date.now() + this.#config.HEALTH_INTERVAL_MS);
    }
  }

  async #reloadNodes(): Promise<void> {
    const stored = await this.#stores.nodes.list();
    this.#table.setNodes(stored.map((n) => ({ id: n.id, url: n.url, pool: n.pool })));
    this.#breakers.setNodes(this.#table.list());
    for (const n of stored) this.#table.setDraining(n.id, n.state === "draining");
  }

  async #refreshVoices(): Promise<void> {
    this.#voicesTriedMs = Date.now();
    for (const n of this.#table.list()) {
      if (!n.up) continue;
      const info = await fetch(`${n.url}/info`, { signal: AbortSignal.timeout(2_000) })
        .then((r) => (r.ok ? (r.json() as Promise<{ voices?: VoiceInfo[] }>) : null))
        .catch(() => null);
      if (info?.voices?.length) {
        this.#voices = info.voices;
        return;
      }
    }
  }

  #snapshot(): RoutingSnapshot {
    return { atMs: Date.now(), nodes: describeNodes(this.#table.list(), this.#breakers), voices: this.#voices };
  }
}
