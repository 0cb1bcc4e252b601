/**
 * The jobs' ports. Implementations: in memory (./memory.ts, tests), SQLite (../adapters/sqlite/jobs.ts) and a disk
 * result store (../adapters/node/disk-results.ts) on Node; the edge implements the same ports (a queue over D1 or
 * Queues, results in R2) and must pass the same contract suites (./queue.contract.ts, ./results.contract.ts).
 *
 * Delivery is at least once: a claimed item is leased to one worker until its lease ends, after which any worker may
 * claim it again. Processing is idempotent: the audio is stored under a fixed key, the usage row is keyed by the
 * item's request id (the ledger ignores a repeat), and every transition names the lease it belongs to, so a worker
 * whose lease was taken over cannot change the item any more. Times are epoch ms; expected outcomes are returned,
 * failures of storage itself reject.
 */
import type { ItemCounts, Job, JobItem, NewJob } from "./model.ts";

export interface JobWithCounts {
  job: Job;
  counts: ItemCounts;
  /** sums over the job's done items (what it was charged) */
  totals: JobTotals;
}

export interface JobTotals {
  audioMs: number;
  tokens: number;
  amountMicros: number;
}

/** An item handed to a worker, with the lease that every later transition must present. */
export interface ClaimedItem {
  item: JobItem;
  job: Job;
  leaseToken: string;
}

export interface ClaimOptions {
  limit: number;
  /** how long the claim holds; after it the item is claimable again */
  leaseMs: number;
  /** pools with spare capacity now (items of other pools stay queued) */
  pools: readonly string[];
  /** plans whose peak window is open now: their off-peak-preferring jobs wait */
  holdOffPeakForPlans?: readonly string[];
  /** only this item, if it is due and passes the filters above (a queue message names the item it is for) */
  only?: { jobId: string; n: number };
}

export interface ItemError {
  code: string;
  message: string;
}

export interface ItemResult {
  audioMs: number;
  tokens: number;
  amountMicros: number;
  /** length of the stored WAV's PCM data */
  pcmBytes: number;
  /** "sampleRate/channels/bitsPerSample" of the stored WAV */
  pcmFormat: string;
}

export type FinishOutcome = "ok" | "cancelled" | "lost";
export type RetryOutcome = "retrying" | "dead" | "lost";

export interface ActiveUsage {
  /** jobs with an item not yet final */
  jobs: number;
  /** items not yet final */
  items: number;
}

export interface CallbackDelivery {
  delivered: boolean;
  error?: string;
  /** when to try again (ignored when delivered, or when `giveUp`) */
  nextAt?: number;
  giveUp?: boolean;
}

export interface JobStore {
  /** The job and all its items, atomically (all queued and due now). */
  create(input: NewJob): Promise<Job>;
  get(jobId: string): Promise<JobWithCounts | null>;
  /** The customer's jobs, newest first; `beforeId` pages. */
  list(customerId: string, options?: { limit?: number; beforeId?: string }): Promise<JobWithCounts[]>;
  /** Items of a job in order, from `fromN`. */
  items(jobId: string, options?: { fromN?: number; limit?: number }): Promise<JobItem[]>;
  item(jobId: string, n: number): Promise<JobItem | null>;
  activeUsage(customerId: string): Promise<ActiveUsage>;
  /**
   * Leases up to `limit` items that are due (queued and past their backoff, or leased and past their lease), fair
   * across customers (./fair.ts: round-robin, least recently served first, each customer's own items oldest first),
   * skipping jobs of pools not listed and off-peak jobs of plans in `holdOffPeakForPlans`. Each claim counts an
   * attempt of a queued or running item; a `finishing` item keeps its state (it is committed to being charged).
   */
  claim(options: ClaimOptions): Promise<ClaimedItem[]>;
  /**
   * The customer whose item a claim with these filters would take first (the fair order, ./fair.ts), or null when
   * nothing is due: read only, nothing is leased. A queue message's turn asks it before claiming its named item.
   */
  nextCustomer(options: Pick<ClaimOptions, "pools" | "holdOffPeakForPlans">): Promise<string | null>;
  /**
   * The item's audio is stored: commit to charging it. "cancelled": the job was cancelled before (the item is now
   * cancelled and must not be charged). "lost": the lease is no longer this worker's.
   */
  beginFinish(jobId: string, n: number, leaseToken: string): Promise<FinishOutcome>;
  /** finishing → done, after its usage row is durable. false when the lease is no longer this worker's. */
  complete(jobId: string, n: number, leaseToken: string, result: ItemResult): Promise<boolean>;
  /** A failed attempt: queued again at `retryAt`, or failed for good (dead letter) once `max_attempts` are spent. */
  retry(jobId: string, n: number, leaseToken: string, error: ItemError, retryAt: number): Promise<RetryOutcome>;
  /** Gives up on the item now (a request the node refused: no retry can succeed). */
  fail(jobId: string, n: number, leaseToken: string, error: ItemError): Promise<boolean>;
  /**
   * Fails a queued or running item for good, whoever holds its lease (the edge gives up on an item whose queue
   * messages keep dead-lettering): its lease is dropped, so a worker still running it can change nothing and charge
   * nothing. A finishing item is committed to being charged and is left alone. false when the item is unknown,
   * finishing or final.
   */
  giveUp(jobId: string, n: number, error: ItemError): Promise<boolean>;
  /** Hands the item back without spending an attempt (no node could take it), due again at `availableAt`. */
  release(jobId: string, n: number, leaseToken: string, availableAt: number): Promise<boolean>;
  /**
   * Cancels every queued or running item of the job (a running one finds out at `beginFinish`); finishing items
   * still complete. null when the job does not exist; the job unchanged when it already finished.
   */
  cancel(jobId: string): Promise<JobWithCounts | null>;
  /** Makes every leased item due now: a process that was the only worker of this store restarted. */
  releaseAllLeases(): Promise<number>;
  /** Finished jobs with a callback to send, due by now. */
  dueCallbacks(limit: number): Promise<JobWithCounts[]>;
  recordCallback(jobId: string, delivery: CallbackDelivery): Promise<void>;
  /** Jobs past their retention. */
  expired(limit: number): Promise<Job[]>;
  /** Deletes the job and its items. false when unknown. */
  delete(jobId: string): Promise<boolean>;
  /** Queue depth for metrics and the benchmark: item counts over all jobs. */
  stats(): Promise<ItemCounts>;
  /** The earliest time an item becomes due, or null when none is waiting. */
  nextDueAt(): Promise<number | null>;
}

/**
 * Where finished audio is kept: a disk folder on Node, R2 on the edge. Keys are `<job id>/<n>.wav`. `put` resolves
 * once the object is durable and whole (readers never see a partial object); writing a key again replaces it.
 */
export interface ResultStore {
  put(key: string, body: Uint8Array): Promise<void>;
  get(key: string): Promise<Uint8Array | null>;
  delete(key: string): Promise<void>;
  /** Deletes every object under `prefix`, which ends in `/` (a job's `<job id>/`); returns how many. */
  deletePrefix(prefix: string): Promise<number>;
}

/** Keys the result stores accept: `/`-separated segments of `[A-Za-z0-9._-]`, none `.` or `..`; a prefix ends in `/`. */
export function assertResultKey(key: string): void {
  const segments = (key.endsWith("/") ? key.slice(0, -1) : key).split("/");
  const ok =
    key.length > 0 &&
    key.length <= 512 &&
    segments.every((s) => /^[A-Za-z0-9._-]+$/.test(s) && s !== "." && s !== "..");
  if (!ok) throw new RangeError(`invalid result key ${JSON.stringify(key)}`);
}
