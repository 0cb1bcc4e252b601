/** What every job store does the same way: build the rows of a new job, count states, word a dead letter, finish an item, record a callback attempt. */
import type { Clock } from "../store/ports.ts";
import { derivedSeed, emptyCounts, type ItemCounts, type Job, type JobItem, type NewJob, newJobId } from "./model.ts";
import type { CallbackDelivery, ItemError, ItemResult, JobTotals } from "./ports.ts";

export interface JobStoreOptions {
  clock?: Clock;
  /** how long a finished job and its audio are kept (default 7 days) */
  retentionMs?: number;
}

export function buildJobRows(input: NewJob, now: number): { job: Job; items: JobItem[] } {
  if (input.items.length === 0) throw new RangeError("a job needs at least one item");
  if (!Number.isInteger(input.maxAttempts) || input.maxAttempts < 1) throw new RangeError("maxAttempts must be ≥ 1");
  const id = input.id ?? newJobId();
  const job: Job = {
    id,
    customerId: input.customerId,
    apiKeyId: input.apiKeyId,
    planId: input.planId,
    pool: input.pool,
    preferOffPeak: input.preferOffPeak,
    itemCount: input.items.length,
    metadata: input.metadata ?? null,
    callbackUrl: input.callbackUrl ?? null,
    callbackSecret: input.callbackSecret ?? null,
    callbackState: null,
    callbackAttempts: 0,
    callbackNextAt: null,
    callbackLastError: null,
    createdAt: now,
    cancelledAt: null,
    finishedAt: null,
    expiresAt: null,
    servedSeq: 0,
    enqueueState: null,
  };
  const items = input.items.map(
    (spec, n): JobItem => ({
      jobId: id,
      n,
      customerId: input.customerId,
      text: spec.text,
      voice: spec.voice,
      emotion: spec.emotion ?? null,
      emotionVector: spec.emotionVector ?? null,
      emotionAlpha: spec.emotionAlpha ?? null,
      speed: spec.speed,
      seed: spec.seed ?? derivedSeed(id, n),
      state: "queued",
      attempts: 0,
      maxAttempts: input.maxAttempts,
      availableAt: now,
      leaseToken: null,
      errorCode: null,
      errorMessage: null,
      audioMs: null,
      tokens: null,
      amountMicros: null,
      pcmBytes: null,
      pcmFormat: null,
      completedAt: null,
    }),
  );
  return { job, items };
}

export function totalItems(items: readonly JobItem[]): JobTotals {
  const totals = { audioMs: 0, tokens: 0, amountMicros: 0 };
  for (const item of items) {
    if (item.state !== "done") continue;
    totals.audioMs += item.audioMs ?? 0;
    totals.tokens += item.tokens ?? 0;
    totals.amountMicros += item.amountMicros ?? 0;
  }
  return totals;
}

export function countItems(items: readonly Pick<JobItem, "state">[]): ItemCounts {
  const counts = emptyCounts();
  for (const item of items) counts[item.state]++;
  return counts;
}

/** The dead letter's error: the item failed `attempts` times; the last failure is kept in the message. */
export const exhaustedError = (attempts: number, last: ItemError): ItemError => ({
  code: "ATTEMPTS_EXHAUSTED",
  message: `gave up after ${attempts} attempts; last error ${last.code}: ${last.message}`,
});

/** An item given up after its queue messages were dead-lettered `times` times; its last failure, if any, is kept. */
export const deadLetteredError = (times: number, last: ItemError | null): ItemError => ({
  code: "ATTEMPTS_EXHAUSTED",
  message: `gave up after its queue message was dead-lettered ${times} times; last error ${
    last ? `${last.code}: ${last.message}` : "JOB_MESSAGE_DEAD_LETTERED: the item's queue message ran out of retries"
  }`,
});

/** An item once done: its result, no lease, no error (what the memory and D1 stores write; SQLite's statement too). */
/** The fields of an item failed for good (a refusal, or given up after its dead letters). */
export const failedItem = (error: ItemError, now: number) => ({
  state: "failed" as const,
  leaseToken: null,
  errorCode: error.code,
  errorMessage: error.message,
  completedAt: now,
});

export const doneItem = (result: ItemResult, now: number) => ({
  state: "done" as const,
  leaseToken: null,
  audioMs: result.audioMs,
  tokens: result.tokens,
  amountMicros: result.amountMicros,
  pcmBytes: result.pcmBytes,
  pcmFormat: result.pcmFormat,
  completedAt: now,
  errorCode: null,
  errorMessage: null,
});

/** What a callback delivery attempt changes on its pending job, besides counting the attempt. */
export function callbackChange(
  delivery: CallbackDelivery,
  now: number,
): Partial<Pick<Job, "callbackState" | "callbackNextAt">> & Pick<Job, "callbackLastError"> {
  const callbackLastError = delivery.delivered ? null : (delivery.error ?? "failed");
  if (delivery.delivered) return { callbackState: "delivered", callbackLastError };
  if (delivery.giveUp) return { callbackState: "failed", callbackLastError };
  return { callbackNextAt: delivery.nextAt ?? now, callbackLastError };
}
