/**
 * In-memory job queue and result store: tests and single-process development. Nothing survives the process. The same
 * contract suites as the durable implementations hold for them (./queue.contract.ts, ./results.contract.ts).
 */
import { type Clock, systemClock } from "../store/ports.ts";
import { type FairCandidate, fairOrder, servedSeqs } from "./fair.ts";
import { type ItemCounts, isFinal, type Job, type JobItem, type NewJob } from "./model.ts";
import {
  type ActiveUsage,
  assertResultKey,
  type CallbackDelivery,
  type ClaimedItem,
  type ClaimOptions,
  type FinishOutcome,
  type ItemError,
  type ItemResult,
  type JobStore,
  type JobWithCounts,
  type ResultStore,
  type RetryOutcome,
} from "./ports.ts";
import {
  buildJobRows,
  callbackChange,
  countItems,
  doneItem,
  exhaustedError,
  failedItem,
  type JobStoreOptions,
  totalItems,
} from "./rows.ts";

export class InMemoryJobStore implements JobStore {
  readonly #jobs = new Map<string, Job>();
  readonly #items = new Map<string, JobItem[]>();
  readonly #clock: Clock;
  readonly #retentionMs: number;

  constructor(options: JobStoreOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#retentionMs = options.retentionMs ?? 7 * 24 * 3_600_000;
  }

  async create(input: NewJob): Promise<Job> {
    const { job, items } = buildJobRows(input, this.#clock.now());
    if (this.#jobs.has(job.id)) throw new Error(`job ${job.id} exists`);
    this.#jobs.set(job.id, job);
    this.#items.set(job.id, items);
    return { ...job };
  }

  #withCounts(job: Job): JobWithCounts {
    const items = this.#items.get(job.id) ?? [];
    return { job: { ...job }, counts: countItems(items), totals: totalItems(items) };
  }

  async get(jobId: string): Promise<JobWithCounts | null> {
    const job = this.#jobs.get(jobId);
    return job ? this.#withCounts(job) : null;
  }

  async list(customerId: string, options: { limit?: number; beforeId?: string } = {}): Promise<JobWithCounts[]> {
    return [...this.#jobs.values()]
      .filter((j) => j.customerId === customerId && (options.beforeId === undefined || j.id < options.beforeId))
      .sort((a, b) => (a.id < b.id ? 1 : -1))
      .slice(0, options.limit ?? 100)
      .map((j) => this.#withCounts(j));
  }

  async items(jobId: string, options: { fromN?: number; limit?: number } = {}): Promise<JobItem[]> {
    const from = options.fromN ?? 0;
    return (this.#items.get(jobId) ?? [])
      .filter((i) => i.n >= from)
      .slice(0, options.limit ?? Number.MAX_SAFE_INTEGER)
      .map((i) => ({ ...i }));
  }

  async item(jobId: string, n: number): Promise<JobItem | null> {
    const found = this.#items.get(jobId)?.find((i) => i.n === n);
    return found ? { ...found } : null;
  }

  async activeUsage(customerId: string): Promise<ActiveUsage> {
    let jobs = 0;
    let items = 0;
    for (const job of this.#jobs.values()) {
      if (job.customerId !== customerId) continue;
      const active = (this.#items.get(job.id) ?? []).filter((i) => !isFinal(i.state)).length;
      if (active > 0) jobs++;
      items += active;
    }
    return { jobs, items };
  }

  /** The due items that pass the filters, with their customers' last service; `base`: the highest `servedSeq`. */
  #due(options: Pick<ClaimOptions, "pools" | "holdOffPeakForPlans" | "only">) {
    const now = this.#clock.now();
    const hold = new Set(options.holdOffPeakForPlans ?? []);
    const pools = new Set(options.pools);
    const only = options.only;
    const unfinished = [...this.#jobs.values()].filter((j) => j.finishedAt === null);
    const customerSeq = new Map<string, number>();
    let base = 0;
    for (const job of unfinished) {
      customerSeq.set(job.customerId, Math.max(customerSeq.get(job.customerId) ?? 0, job.servedSeq));
      base = Math.max(base, job.servedSeq);
    }
    const due: (FairCandidate & { job: Job; item: JobItem })[] = [];
    for (const job of unfinished) {
      if (!pools.has(job.pool) || (job.preferOffPeak && hold.has(job.planId))) continue;
      if (only && job.id !== only.jobId) continue;
      const customerId = job.customerId;
      for (const item of this.#items.get(job.id) ?? []) {
        if (only && item.n !== only.n) continue;
        if (isFinal(item.state) || item.availableAt > now) continue;
        const at = item.availableAt;
        due.push({ job, item, jobId: job.id, n: item.n, availableAt: at, customerId, customerSeq: 0 });
      }
    }
    for (const d of due) d.customerSeq = customerSeq.get(d.customerId) ?? 0;
    return { due, base, now };
  }

  async nextCustomer(options: Pick<ClaimOptions, "pools" | "holdOffPeakForPlans">): Promise<string | null> {
    return fairOrder(this.#due(options).due, 1)[0]?.customerId ?? null;
  }

  /** Fair across customers (./fair.ts): round-robin, least recently served first, each one's items oldest first. */
  async claim(options: ClaimOptions): Promise<ClaimedItem[]> {
    const { due, base, now } = this.#due(options);
    const chosen = fairOrder(due, options.limit);
    for (const [jobId, seq] of servedSeqs(chosen, base)) {
      const job = this.#jobs.get(jobId);
      if (job) job.servedSeq = seq;
    }
    return chosen.map(({ job, item }) => {
      const leaseToken = crypto.randomUUID();
      if (item.state !== "finishing") {
        item.state = "running";
        item.attempts++;
      }
      item.leaseToken = leaseToken;
      item.availableAt = now + options.leaseMs;
      return { job: { ...job }, item: { ...item }, leaseToken };
    });
  }

  #leased(jobId: string, n: number, leaseToken: string): JobItem | undefined {
    const item = this.#items.get(jobId)?.find((i) => i.n === n);
    return item && item.leaseToken === leaseToken ? item : undefined;
  }

  /** Sets finished_at (and the callback) once no item of the job is left to run. */
  #settle(jobId: string): void {
    const job = this.#jobs.get(jobId);
    if (!job || job.finishedAt !== null) return;
    if ((this.#items.get(jobId) ?? []).some((i) => !isFinal(i.state))) return;
    const now = this.#clock.now();
    job.finishedAt = now;
    job.expiresAt = now + this.#retentionMs;
    if (job.callbackUrl !== null) {
      job.callbackState = "pending";
      job.callbackNextAt = now;
    }
  }

  async beginFinish(jobId: string, n: number, leaseToken: string): Promise<FinishOutcome> {
    const item = this.#leased(jobId, n, leaseToken);
    if (!item) return "lost";
    if (item.state === "finishing") return "ok";
    if (item.state === "cancelled") return "cancelled";
    if (item.state !== "running") return "lost";
    item.state = "finishing";
    return "ok";
  }

  async complete(jobId: string, n: number, leaseToken: string, result: ItemResult): Promise<boolean> {
    const item = this.#leased(jobId, n, leaseToken);
    if (item?.state !== "finishing") return false;
    Object.assign(item, doneItem(result, this.#clock.now()));
    this.#settle(jobId);
    return true;
  }

  async retry(jobId: string, n: number, leaseToken: string, error: ItemError, retryAt: number): Promise<RetryOutcome> {
    const item = this.#leased(jobId, n, leaseToken);
    if (!item || (item.state !== "running" && item.state !== "finishing")) return "lost";
    item.leaseToken = null;
    item.errorCode = error.code;
    item.errorMessage = error.message;
    if (item.state === "finishing") {
      // Committed to being charged: it is retried until it is, whatever the attempts.
      item.availableAt = retryAt;
      return "retrying";
    }
    if (item.attempts >= item.maxAttempts) {
      const dead = exhaustedError(item.attempts, error);
      item.state = "failed";
      item.errorCode = dead.code;
      item.errorMessage = dead.message;
      item.completedAt = this.#clock.now();
      this.#settle(jobId);
      return "dead";
    }
    item.state = "queued";
    item.availableAt = retryAt;
    return "retrying";
  }

  async fail(jobId: string, n: number, leaseToken: string, error: ItemError): Promise<boolean> {
    const item = this.#leased(jobId, n, leaseToken);
    if (item?.state !== "running") return false;
    Object.assign(item, failedItem(error, this.#clock.now()));
    this.#settle(jobId);
    return true;
  }

  async giveUp(jobId: string, n: number, error: ItemError): Promise<boolean> {
    const item = this.#items.get(jobId)?.find((i) => i.n === n);
    if (item?.state !== "queued" && item?.state !== "running") return false;
    Object.assign(item, failedItem(error, this.#clock.now()));
    this.#settle(jobId);
    return true;
  }

  async release(jobId: string, n: number, leaseToken: string, availableAt: number): Promise<boolean> {
    const item = this.#leased(jobId, n, leaseToken);
    if (!item || (item.state !== "running" && item.state !== "finishing")) return false;
    if (item.state === "running") {
      item.state = "queued";
      item.attempts = Math.max(0, item.attempts - 1);
    }
    item.leaseToken = null;
    item.availableAt = availableAt;
    return true;
  }

  async cancel(jobId: string): Promise<JobWithCounts | null> {
    const job = this.#jobs.get(jobId);
    if (!job) return null;
    if (job.finishedAt === null && job.cancelledAt === null) {
      job.cancelledAt = this.#clock.now();
      for (const item of this.#items.get(jobId) ?? []) {
        if (item.state === "queued") item.leaseToken = null;
        // A running item keeps its lease: its worker learns of the cancel at beginFinish.
        if (item.state === "queued" || item.state === "running") {
          item.state = "cancelled";
          item.completedAt = job.cancelledAt;
        }
      }
      this.#settle(jobId);
    }
    return this.#withCounts(job);
  }

  async releaseAllLeases(): Promise<number> {
    const now = this.#clock.now();
    let released = 0;
    for (const items of this.#items.values()) {
      for (const item of items) {
        if (item.state !== "running" && item.state !== "finishing") continue;
        item.leaseToken = null;
        item.availableAt = now;
        released++;
      }
    }
    return released;
  }

  async dueCallbacks(limit: number): Promise<JobWithCounts[]> {
    const now = this.#clock.now();
    return [...this.#jobs.values()]
      .filter((j) => j.callbackState === "pending" && (j.callbackNextAt ?? 0) <= now)
      .sort((a, b) => (a.callbackNextAt ?? 0) - (b.callbackNextAt ?? 0))
      .slice(0, limit)
      .map((j) => this.#withCounts(j));
  }

  async recordCallback(jobId: string, delivery: CallbackDelivery): Promise<void> {
    const job = this.#jobs.get(jobId);
    if (job?.callbackState !== "pending") return;
    job.callbackAttempts++;
    Object.assign(job, callbackChange(delivery, this.#clock.now()));
  }

  async expired(limit: number): Promise<Job[]> {
    const now = this.#clock.now();
    return [...this.#jobs.values()]
      .filter((j) => j.expiresAt !== null && j.expiresAt <= now)
      .slice(0, limit)
      .map((j) => ({ ...j }));
  }

  async delete(jobId: string): Promise<boolean> {
    this.#items.delete(jobId);
    return this.#jobs.delete(jobId);
  }

  async stats(): Promise<ItemCounts> {
    return countItems([...this.#items.values()].flat());
  }

  async nextDueAt(): Promise<number | null> {
    let next: number | null = null;
    for (const items of this.#items.values()) {
      for (const item of items) {
        if (!isFinal(item.state) && (next === null || item.availableAt < next)) next = item.availableAt;
      }
    }
    return next;
  }
}

export class InMemoryResultStore implements ResultStore {
  readonly #objects = new Map<string, Uint8Array>();

  async put(key: string, body: Uint8Array): Promise<void> {
    assertResultKey(key);
    this.#objects.set(key, body.slice());
  }

  async get(key: string): Promise<Uint8Array | null> {
    assertResultKey(key);
    return this.#objects.get(key)?.slice() ?? null;
  }

  async delete(key: string): Promise<void> {
    assertResultKey(key);
    this.#objects.delete(key);
  }

  async deletePrefix(prefix: string): Promise<number> {
    assertResultKey(prefix);
    if (!prefix.endsWith("/")) throw new RangeError(`a prefix ends with "/": ${JSON.stringify(prefix)}`);
    let deleted = 0;
    for (const key of [...this.#objects.keys()]) {
      if (key.startsWith(prefix)) {
        this.#objects.delete(key);
        deleted++;
      }
    }
    return deleted;
  }
}
