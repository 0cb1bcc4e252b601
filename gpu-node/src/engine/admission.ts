import type { EngineOptions } from "./api.ts";
import type { SegmentState } from "./types.ts";

/** Segments allowed between the GPT and the audio (projector, CFM, vocoder), per GPT slot: bounds memory. */
export const DOWNSTREAM_ROWS_PER_SLOT = 2;

export interface AdmissionInput {
  /** segments waiting for the GPT, oldest first */
  waiting: readonly SegmentState[];
  /** sequences in the running GPT batch, and how many of them are batch priority */
  occupancy: number;
  batchOccupancy: number;
  /** segments past the GPT without audio yet */
  downstreamRows: number;
  options: Pick<EngineOptions, "maxBatch" | "reservedInteractiveSlots" | "maxQueueDelayMs">;
  now: number;
  /** whether a request not yet admitted fits the memory budget (./memory-budget.ts); absent: always */
  fitsMemory?: (request: SegmentState["request"]) => boolean;
}

/**
 * The next segment that may join the GPT batch now, or when to look again: interactive first; batch work only into
 * slots beyond the interactive reservation; nothing while the stages after the GPT are full (memory); and for an idle
 * GPT, Triton's rule: start when a full batch waits or the oldest has waited `maxQueueDelayMs`.
 */
export function admissionCandidate(input: AdmissionInput): { segment?: SegmentState; wakeAt?: number } {
  const { waiting, occupancy, options, now } = input;
  if (waiting.length === 0) return {};
  const { maxBatch, reservedInteractiveSlots, maxQueueDelayMs } = options;
  if (occupancy >= maxBatch) return {};
  if (input.downstreamRows >= DOWNSTREAM_ROWS_PER_SLOT * maxBatch) return {};
  let segment = waiting.find((s) => s.request.priority === "interactive");
  if (!segment) {
    const batchSlots = Math.max(1, maxBatch - reservedInteractiveSlots);
    if (input.batchOccupancy >= batchSlots) return {};
    segment = waiting[0];
  }
  if (!segment) return {};
  // Memory: a new request that does not fit keeps its place and waits; segments of admitted requests go on.
  if (segment.request.admittedAt === null && input.fitsMemory && !input.fitsMemory(segment.request)) {
    const priority = segment.request.priority;
    segment = waiting.find((s) => s.request.admittedAt !== null && s.request.priority === priority);
    if (!segment) return {};
  }
  if (occupancy === 0 && waiting.length < maxBatch) {
    const oldest = Math.min(...waiting.map((s) => s.enqueuedAt));
    if (now - oldest < maxQueueDelayMs) return { wakeAt: oldest + maxQueueDelayMs };
  }
  return { segment };
}
