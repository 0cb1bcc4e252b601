/**
 * The jobs' metrics, runtime-neutral: counters of item outcomes, counted where the outcome is stored (a `JobStore`
 * decorator, so every worker of every runtime counts the same way), and the queue's state read at scrape time.
 */
import type { CustomerStore } from "../store/ports.ts";
import { type JobStatus, jobStatus } from "./model.ts";
import type { JobStore } from "./ports.ts";

export const JOB_STATUSES = [
  "queued",
  "running",
  "succeeded",
  "failed",
  "cancelled",
  "completed_with_errors",
] as const satisfies readonly JobStatus[];

/** Items as the metrics show them: `running` includes `finishing`; `failed` excludes dead letters. */
export const JOB_ITEM_METRIC_STATES = ["queued", "running", "done", "failed", "dead_lettered", "cancelled"] as const;
export type JobItemMetricState = (typeof JOB_ITEM_METRIC_STATES)[number];

export interface JobStateCounts {
  jobs: Record<JobStatus, number>;
  items: Record<JobItemMetricState, number>;
}

/**
 * What became of an item's attempt: done (metered and stored), failed (refused, no retry can succeed), dead_lettered
 * (its attempts spent), cancelled (its job was cancelled first; never charged), retried (queued again after a failure).
 */
export type JobItemOutcome = "done" | "failed" | "dead_lettered" | "cancelled" | "retried";

export interface JobMetricsSink {
  /** `charged`: what a done item was metered (its usage row is durable before it is marked done) */
  jobItem(outcome: JobItemOutcome, charged?: { tokens: number; amountMicros: number }, count?: number): void;
}

/** The error code of a dead-lettered item (`exhaustedError` in ./rows.ts). */
export const DEAD_LETTER_CODE = "ATTEMPTS_EXHAUSTED";

/**
 * `store`, counting each outcome the store accepts into `sink`. Transitions are lease-guarded, so an item redelivered
 * to a second worker is counted once: only the transition that took effect is counted. Every other method, including
 * ones added to the port later, is the store's own.
 */
export function instrumentJobStore(store: JobStore, sink: JobMetricsSink): JobStore {
  const hooks: Partial<JobStore> = {
    async complete(jobId, n, leaseToken, result) {
      const ok = await store.complete(jobId, n, leaseToken, result);
      if (ok) sink.jobItem("done", { tokens: result.tokens, amountMicros: result.amountMicros });
      return ok;
    },
    async retry(jobId, n, leaseToken, error, retryAt) {
      const outcome = await store.retry(jobId, n, leaseToken, error, retryAt);
      if (outcome === "dead") sink.jobItem("dead_lettered");
      else if (outcome === "retrying") sink.jobItem("retried");
      return outcome;
    },
    async fail(jobId, n, leaseToken, error) {
      const ok = await store.fail(jobId, n, leaseToken, error);
      if (ok) sink.jobItem("failed");
      return ok;
    },
    // Cancelling marks the job's queued and running items cancelled at once (a running one's worker learns of it at
    // beginFinish, which changes nothing more): counted here, as the difference the cancel made.
    async cancel(jobId) {
      const before = await store.get(jobId);
      const after = await store.cancel(jobId);
      const cancelled = (after?.counts.cancelled ?? 0) - (before?.counts.cancelled ?? 0);
      if (cancelled > 0) sink.jobItem("cancelled", undefined, cancelled);
      return after;
    },
  };
  return new Proxy(store, {
    get(target, prop) {
      const hook = hooks[prop as keyof JobStore];
      if (hook !== undefined) return hook;
      const value = Reflect.get(target, prop, target);
      // Bound to the store itself: its methods may use private fields.
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** A store that can count jobs and items by state itself (one query) instead of `jobStateCounts`' walk. */
interface CountsItself {
  stateCounts(): Promise<JobStateCounts>;
}
const countsItself = (store: JobStore): store is JobStore & CountsItself =>
  typeof (store as Partial<CountsItself>).stateCounts === "function";

/**
 * Jobs and items by state over the whole store, through the ports every store implements: the items from `stats()`,
 * the jobs by walking each customer's jobs, and dead letters from the items of jobs that have failed items. A store
 * with its own `stateCounts()` answers that instead.
 */
export async function jobStateCounts(store: JobStore, customers: CustomerStore): Promise<JobStateCounts> {
  if (countsItself(store)) return store.stateCounts();
  const jobs = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>;
  let deadLettered = 0;
  for (let afterId: string | undefined; ; ) {
    const page = await customers.list({ limit: 500, ...(afterId !== undefined ? { afterId } : {}) });
    for (const customer of page) {
      for (let beforeId: string | undefined; ; ) {
        const list = await store.list(customer.id, { limit: 100, ...(beforeId !== undefined ? { beforeId } : {}) });
        for (const { job, counts } of list) {
          jobs[jobStatus(job, counts)]++;
          if (counts.failed > 0) {
            const items = await store.items(job.id);
            deadLettered += items.filter((i) => i.state === "failed" && i.errorCode === DEAD_LETTER_CODE).length;
          }
        }
        if (list.length < 100) break;
        beforeId = list.at(-1)?.job.id;
      }
    }
    if (page.length < 500) break;
    afterId = page.at(-1)?.id;
  }
  const s = await store.stats();
  return {
    jobs,
    items: {
      queued: s.queued,
      running: s.running + s.finishing,
      done: s.done,
      failed: s.failed - deadLettered,
      dead_lettered: deadLettered,
      cancelled: s.cancelled,
    },
  };
}

/** The jobs' settings with their store counting into `metrics` (unchanged when `metrics` counts no job items). */
export function withJobMetrics<T extends { store: JobStore }>(jobs: T, metrics: Partial<JobMetricsSink>): T {
  const jobItem = metrics.jobItem;
  if (!jobItem) return jobs;
  return { ...jobs, store: instrumentJobStore(jobs.store, { jobItem: (...args) => jobItem.apply(metrics, args) }) };
}

/** `store` answering `stateCounts()` with `counts` (a store's own aggregate queries), every other call its own. */
export function withStateCounts(store: JobStore, counts: () => Promise<JobStateCounts>): JobStore {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === "stateCounts") return counts;
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
