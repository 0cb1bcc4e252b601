/**
 * The batch plan's jobs: a job is a list of items (one synthesis each), queued durably and fed to GPU nodes only while
 * they have spare capacity. Runtime-neutral: the types here, the ports in ./ports.ts, the worker in ./worker.ts.
 * Records are the schema's rows (migrations/schema/jobs.ts), like the other stores.
 */
import type { JobItemRow, JobItemState, JobRow } from "../../../migrations/schema/index.ts";

export type { CallbackState, JobItemState } from "../../../migrations/schema/index.ts";
export type Job = JobRow;
export type JobItem = JobItemRow;

/** What a job's status reads as, from its items' states. */
export type JobStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled" | "completed_with_errors";

export const ACTIVE_ITEM_STATES: readonly JobItemState[] = ["queued", "running", "finishing"];
export const FINAL_ITEM_STATES: readonly JobItemState[] = ["done", "failed", "cancelled"];
export const isFinal = (state: JobItemState): boolean => FINAL_ITEM_STATES.includes(state);

export type ItemCounts = Record<JobItemState, number>;
export const emptyCounts = (): ItemCounts => ({
  queued: 0,
  running: 0,
  finishing: 0,
  done: 0,
  failed: 0,
  cancelled: 0,
});

/**
 * - any item queued or running: "running" once one has started or finished, else "queued";
 * - all final: "succeeded" (all done), "cancelled" (the job was cancelled), "failed" (none done),
 *   "completed_with_errors" (some done, some failed).
 */
export function jobStatus(job: Pick<Job, "cancelledAt">, counts: ItemCounts): JobStatus {
  const active = counts.queued + counts.running + counts.finishing;
  const total = active + counts.done + counts.failed + counts.cancelled;
  if (active > 0) return active === counts.queued && counts.queued === total ? "queued" : "running";
  if (job.cancelledAt !== null) return "cancelled";
  if (counts.done === total) return "succeeded";
  return counts.done === 0 ? "failed" : "completed_with_errors";
}

/** An item as the customer submits it (the voice already resolved to its id). */
export interface ItemSpec {
  text: string;
  voice: number;
  emotion?: string | null;
  emotionVector?: number[] | null;
  emotionAlpha?: number | null;
  speed: number;
  /** omitted: derived from the job id and position, so every run of the item gives the same audio */
  seed?: number | null;
}

export interface NewJob {
  /** defaults to a generated `job_…` id */
  id?: string;
  customerId: string;
  apiKeyId: string;
  planId: string;
  pool: string;
  preferOffPeak: boolean;
  metadata?: Record<string, string> | null;
  callbackUrl?: string | null;
  callbackSecret?: string | null;
  maxAttempts: number;
  items: readonly ItemSpec[];
}

/** The usage row of an item: one per item, whatever the number of runs. */
export const itemRequestId = (jobId: string, n: number): string => `${jobId}.${n}`;

/** Where an item's audio is kept in the result store. */
export const itemResultKey = (jobId: string, n: number): string => `${jobId}/${n}.wav`;
export const jobResultPrefix = (jobId: string): string => `${jobId}/`;

/** A 32-bit FNV-1a hash of the job id and position: the seed of an item that did not choose one. */
export function derivedSeed(jobId: string, n: number): number {
  let h = 0x811c9dc5;
  for (const ch of `${jobId}#${n}`) {
    h ^= ch.codePointAt(0) ?? 0;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export const newJobId = (): string => `job_${crypto.randomUUID().replaceAll("-", "")}`;
