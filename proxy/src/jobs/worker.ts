/**
 * The batch feeder: takes due items from the durable queue and synthesises them on nodes with spare capacity only
 * (./capacity.ts), at `priority: "batch"`, so interactive requests never wait behind them. Runtime-neutral: timers
 * come from a `Scheduler`; on Node it runs in the proxy process (entry.node.ts), sharing the node table, breakers
 * and in-flight counts of interactive traffic.
 *
 * One item, at least once, idempotently:
 *   claim (lease) → synthesise (or reuse audio an earlier run stored) → store the audio → beginFinish (a cancel
 *   before this point wins: nothing is charged) → meter at the batch price under the item's own request id (durable;
 *   the ledger ignores a repeat) → complete.
 * A worker that dies anywhere leaves the item leased; the lease runs out (or the next start releases it) and the item
 * runs again under the same request id and result key, so it is charged once and stored once.
 */
import { isPeak } from "../../../domain/peak.ts";
import type { LoadBalancer, NodeTable } from "../core/routing/balancer.ts";
import type { CircuitBreakers } from "../core/routing/breaker.ts";
import type { Scheduler } from "../core/routing/health.ts";
import type { ProxyMetrics } from "../http/deps.ts";
import type { Stores, UsageLedger } from "../store/ports.ts";
import type { UpstreamAdapter } from "../upstream/adapters.ts";
import type { UpstreamTransport } from "../upstream/transport.ts";
import { deliverDueCallbacks } from "./callbacks.ts";
import { BatchInFlight, batchSlots } from "./capacity.ts";
import type { JobsConfig } from "./config.ts";
import { ItemProcessor } from "./item-processor.ts";
import { isFinal, type JobItem, jobResultPrefix } from "./model.ts";
import type { ClaimedItem, JobStore, ResultStore } from "./ports.ts";

/**
 * What `runItem` did with a named item, i.e. when its next message is due:
 * - gone: unknown or final (done, failed, cancelled): nothing to run, ever;
 * - later: not due before `at` (leased to a worker that may have died, or waiting out a retry's backoff);
 * - busy: due, but no node has spare batch capacity for its pool now; `offPeak` when it waits for its plan's peak
 *   window to close instead (its job prefers off-peak);
 * - ran: processed; `nextAt` is when it is due again (a retry, a node's backpressure), null once it is final;
 *   `instead`: the fair claim gave the turn to another customer's item, which ran (the named one is still due).
 */
export type ItemRun =
  | { kind: "gone" }
  | { kind: "later"; at: number }
  | { kind: "busy"; offPeak?: true }
  | { kind: "ran"; nextAt: number | null; instead?: { jobId: string; n: number } };

export interface JobWorkerDeps {
  jobs: JobStore;
  results: ResultStore;
  stores: Pick<Stores, "customers" | "keys" | "plans">;
  /** the group-committed ledger: an append resolves once durable */
  ledger: UsageLedger;
  nodes: NodeTable;
  breakers: CircuitBreakers;
  balancer: LoadBalancer;
  transport: UpstreamTransport;
  adapter: UpstreamAdapter;
  config: JobsConfig;
  tokensPerSecond: number;
  maxResponseBytes: number;
  requestTimeoutMs: number;
  scheduler: Scheduler;
  now: () => number;
  /** re-reads every node's /healthz (the health checker's checkAll); called while work is queued */
  refreshHealth?: () => Promise<unknown>;
  /** for callbacks */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  metrics?: Pick<ProxyMetrics, "metered">;
  random?: () => number;
  log?: (line: Record<string, unknown>) => void;
}

export class JobWorker {
  readonly #d: JobWorkerDeps;
  readonly #inFlight: BatchInFlight;
  readonly #items: ItemProcessor;
  /** items claimed whose node is not chosen yet: they count against the capacity of the next round */
  #pending = 0;
  readonly #running = new Set<Promise<void>>();
  #peak: { at: number; plans: string[] } | null = null;
  #stops: (() => void)[] = [];
  #ticking = false;
  /** rounds drive this worker (Node): a finished item's slot is refilled at once by another round */
  #rounds = false;
  #lastRefresh = 0;
  #stopped = false;

  constructor(deps: JobWorkerDeps) {
    this.#d = deps;
    const { interactiveWindowMs, reportWindowMs } = deps.config.capacity;
    this.#inFlight = new BatchInFlight({
      ...(interactiveWindowMs !== undefined ? { interactiveMs: interactiveWindowMs } : {}),
      ...(reportWindowMs !== undefined ? { reportMs: reportWindowMs } : {}),
    });
    this.#items = new ItemProcessor(deps, this.#inFlight);
  }

  /** Starts the feeder, the callback sender and the retention purge. */
  start(): void {
    if (this.#stops.length > 0) return;
    this.#stopped = false;
    const { scheduler, config } = this.#d;
    this.#stops.push(scheduler.every(config.pollMs, () => void this.tick()));
    this.#stops.push(scheduler.every(1_000, () => void this.#safely("callbacks", () => this.deliverCallbacks())));
    this.#stops.push(scheduler.every(config.purgeEveryMs, () => void this.#safely("purge", () => this.purgeExpired())));
  }

  /**
   * Stops taking work and waits up to `graceMs` for the items in flight. Items still running then keep their leases:
   * the next start releases them (or their leases run out) and they run again, charged once.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.#stopped = true;
    for (const stop of this.#stops.splice(0)) stop();
    let cancel = () => {};
    const timeout = new Promise<void>((resolve) => {
      cancel = this.#d.scheduler.after(graceMs, resolve);
    });
    await Promise.race([Promise.allSettled([...this.#running]), timeout]);
    cancel();
  }

  /** Batch items in flight to nodes now. */
  inFlight(): number {
    return this.#inFlight.total();
  }

  /** Work in progress, for tests: resolves once every item started so far has settled. */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }

  /** One scheduling round: how many items the nodes can take, claim that many, start them. */
  async tick(): Promise<number> {
    if (this.#ticking || this.#stopped) return 0;
    this.#ticking = true;
    this.#rounds = true;
    try {
      const now = this.#d.now();
      const slots = this.#slotsByPool(now);
      let total = 0;
      for (const n of slots.values()) total += n;
      const limit = total - this.#pending;
      if (limit <= 0) {
        this.#maybeRefresh(now);
        return 0;
      }
      const claimed = await this.#d.jobs.claim({
        limit,
        leaseMs: this.#d.config.leaseMs,
        pools: [...slots.entries()].filter(([, n]) => n > 0).map(([pool]) => pool),
        holdOffPeakForPlans: await this.#plansAtPeak(now),
      });
      if (claimed.length > 0) this.#maybeRefresh(now);
      for (const item of claimed) void this.#start(item);
      return claimed.length;
    } catch (e) {
      this.#d.log?.({ level: "error", msg: "jobs: scheduling round failed", error: String(e) });
      return 0;
    } finally {
      this.#ticking = false;
    }
  }

  /**
   * A queue message's turn for a named item (Workers, where a Queue delivers one message per item instead of rounds
   * polling the store): when a node has spare batch capacity, the turn runs the item the fair claim picks (./fair.ts),
   * which is the named one unless another customer is owed the slot: the Queue delivers a huge job's thousands of
   * messages before a later small job's few, so running whatever item a message names would serve customers in
   * submission order. The same claim, capacity rule and processing as `tick()`; the outcome says when the named
   * item wants its next message (another item that ran in its turn has a message of its own, which then finds it
   * done or leased).
   */
  async runItem(jobId: string, n: number): Promise<ItemRun> {
    const { jobs } = this.#d;
    const named = await jobs.item(jobId, n);
    const state = this.#runState(named);
    if (state) return state;
    let now = this.#d.now();
    let pools = this.#poolsWithRoom(now);
    if (pools.length === 0 && (await this.#refreshNow(now))) {
      now = this.#d.now();
      pools = this.#poolsWithRoom(now);
    }
    if (pools.length === 0) return { kind: "busy" };
    // The slot is reserved before the claim's round trip, so the other messages of a batch see it taken.
    this.#pending++;
    let claimed: ClaimedItem | undefined;
    let atPeak: string[] = [];
    try {
      atPeak = await this.#plansAtPeak(now);
      // The named item, unless the fair order owes this turn to another customer: then that customer's item runs.
      const next = await jobs.nextCustomer({ pools, holdOffPeakForPlans: atPeak });
      const owed = next !== null && next !== named?.customerId;
      [claimed] = await jobs.claim({
        limit: 1,
        leaseMs: this.#d.config.leaseMs,
        pools,
        holdOffPeakForPlans: atPeak,
        ...(owed ? {} : { only: { jobId, n } }),
      });
    } finally {
      this.#pending--;
    }
    // Nothing claimed: the item is final or leased since it was read, or due but its pool has no room or its plan is
    // at peak (and so is every other due item).
    if (!claimed) return this.#runState(await jobs.item(jobId, n)) ?? (await this.#whyBusy(jobId, pools, atPeak));
    await this.#start(claimed);
    const after = await jobs.item(jobId, n);
    const ran = isItem(claimed, jobId, n) ? {} : { instead: itemKey(claimed) };
    return { kind: "ran", nextAt: after && !isFinal(after.state) ? after.availableAt : null, ...ran };
  }

  /** A due item the claim passed over: held for off-peak (its plan is at peak), or its pool has no room. */
  async #whyBusy(jobId: string, pools: readonly string[], atPeak: readonly string[]): Promise<ItemRun> {
    if (atPeak.length === 0) return { kind: "busy" };
    const job = (await this.#d.jobs.get(jobId))?.job;
    const held = job?.preferOffPeak === true && atPeak.includes(job.planId) && pools.includes(job.pool);
    return held ? { kind: "busy", offPeak: true } : { kind: "busy" };
  }

  #runState(item: JobItem | null): ItemRun | null {
    if (!item || isFinal(item.state)) return { kind: "gone" };
    if (item.availableAt > this.#d.now()) return { kind: "later", at: item.availableAt };
    return null;
  }

  #poolsWithRoom(now: number): string[] {
    const slots = this.#slotsByPool(now);
    let total = 0;
    for (const s of slots.values()) total += s;
    if (total - this.#pending <= 0) return [];
    return [...slots.entries()].filter(([, s]) => s > 0).map(([pool]) => pool);
  }

  /** Fresh node reports now (awaited), at most once per `healthRefreshMs`; true when they were refreshed. */
  async #refreshNow(now: number): Promise<boolean> {
    const refresh = this.#d.refreshHealth;
    if (!refresh || now - this.#lastRefresh < this.#d.config.healthRefreshMs) return false;
    this.#lastRefresh = now;
    try {
      await refresh();
      return true;
    } catch (e) {
      this.#d.log?.({ level: "warn", msg: "jobs: node reports not refreshed", error: String(e) });
      return false;
    }
  }

  #slotsByPool(now: number): Map<string, number> {
    const slots = new Map<string, number>();
    for (const node of this.#d.nodes.list()) {
      const n = batchSlots(node, this.#d.breakers.canRoute(node.id), this.#inFlight, now, this.#d.config.capacity);
      slots.set(node.pool, (slots.get(node.pool) ?? 0) + n);
    }
    return slots;
  }

  /** Node reports drive capacity: while batch work runs they are re-read often (not on every round). */
  #maybeRefresh(now: number): void {
    const refresh = this.#d.refreshHealth;
    if (!refresh || now - this.#lastRefresh < this.#d.config.healthRefreshMs) return;
    if (this.#inFlight.total() === 0 && this.#pending === 0) {
      // Idle feeder: refresh only when something is queued (checked cheaply next to the claim).
      void this.#d.jobs.nextDueAt().then((at) => {
        if (at !== null && at <= this.#d.now()) {
          this.#lastRefresh = this.#d.now();
          void refresh().catch(() => {});
        }
      });
      return;
    }
    this.#lastRefresh = now;
    void refresh().catch(() => {});
  }

  /** Plans whose peak window is open now: their off-peak-preferring jobs wait. */
  async #plansAtPeak(now: number): Promise<string[]> {
    if (this.#peak && now - this.#peak.at < this.#d.config.peakRecheckMs) return this.#peak.plans;
    const plans: string[] = [];
    for (const plan of await this.#d.stores.plans.listPlans()) {
      const version = await this.#d.stores.plans.versionAt(plan.id, now);
      if (version && isPeak(now, plan.timeZone, version.peakWindows)) plans.push(plan.id);
    }
    this.#peak = { at: now, plans };
    return plans;
  }

  #start(claimed: ClaimedItem): Promise<void> {
    this.#pending++;
    let counted = true;
    const uncount = () => {
      if (counted) this.#pending--;
      counted = false;
    };
    const run = this.#items
      .process(claimed, uncount)
      .catch((e) => this.#d.log?.({ level: "error", msg: "jobs: item failed", item: key(claimed), error: String(e) }))
      .finally(() => {
        uncount();
        this.#running.delete(run);
        // A slot came free: fill it now rather than at the next round.
        if (this.#rounds && !this.#stopped) void this.tick();
      });
    this.#running.add(run);
    return run;
  }

  /** Sends the callbacks that are due. */
  async deliverCallbacks(): Promise<number> {
    const fetchFn = this.#d.fetch;
    if (!fetchFn) return 0;
    return deliverDueCallbacks({
      jobs: this.#d.jobs,
      fetch: fetchFn,
      config: this.#d.config,
      now: this.#d.now,
      currencyOf: async (job) => (await this.#d.stores.plans.getPlan(job.planId))?.currency ?? "USD",
      ...(this.#d.random ? { random: this.#d.random } : {}),
      ...(this.#d.log ? { log: this.#d.log } : {}),
    });
  }

  /** Deletes jobs past their retention, audio first. */
  async purgeExpired(): Promise<number> {
    let purged = 0;
    for (const job of await this.#d.jobs.expired(100)) {
      await this.#d.results.deletePrefix(jobResultPrefix(job.id));
      if (await this.#d.jobs.delete(job.id)) purged++;
    }
    return purged;
  }

  async #safely(what: string, task: () => Promise<unknown>): Promise<void> {
    try {
      await task();
    } catch (e) {
      this.#d.log?.({ level: "error", msg: `jobs: ${what} failed`, error: String(e) });
    }
  }
}

const key = ({ job, item }: ClaimedItem) => `${job.id}.${item.n}`;
const itemKey = ({ item }: ClaimedItem) => ({ jobId: item.jobId, n: item.n });
const isItem = ({ item }: ClaimedItem, jobId: string, n: number) => item.jobId === jobId && item.n === n;
