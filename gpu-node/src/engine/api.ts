import type { Voice } from "../model/voices.ts";
import type { SamplingParams } from "./sampling.ts";
import type { Priority } from "./types.ts";

/* What callers of the engine pass and get back (engine.ts re-exports these). */

export interface EngineOptions {
  /** most sequences decoded together (1 turns batching off) */
  maxBatch: number;
  /** how long the first request of an idle stage waits for company (Triton's max_queue_delay) */
  maxQueueDelayMs: number;
  /** DiT / vocoder buckets: longest row / shortest row */
  maxPadRatio: number;
  /** requests accepted but not yet decoding; beyond it → 503 QUEUE_FULL */
  maxQueue: number;
  /** GPT slots that batch-priority work may never take */
  reservedInteractiveSlots: number;
  /** default per-request timeout */
  requestTimeoutMs: number;
  /** the deployment's beams per segment (default: the manifest's, IndexTTS2's 3); a request may ask for its own */
  numBeams?: number;
  /** where the GPT's KV cache lives between steps (gpt-stage.ts DecodeLoop); default host */
  decodeLoop?: "host" | "resident";
  /** admitted requests' estimated peak memory stays under this (./memory-budget.ts); absent: unbounded */
  memoryBudgetBytes?: number;
}

export interface SynthesisJob {
  id: string;
  /** BPE ids per segment, without start/stop text tokens */
  segments: readonly (readonly number[])[];
  voice: Voice;
  emoVec: Float32Array;
  speed: number;
  seed: number;
  maxTokens?: number;
  priority: Priority;
  deadlineMs?: number;
  sampling?: Partial<SamplingParams>;
  /**
   * Called with each segment's audio (22,050 Hz, [-1, 1], without the silence between segments) as soon as it and
   * every segment before it are done, in text order: what a streamed answer sends while the rest is still made.
   */
  onSegment?: (index: number, audio: Float32Array) => void;
}

export interface SynthesisResult {
  /** 22,050 Hz mono, [-1, 1] */
  audio: Float32Array;
  semanticTokens: number;
  /** semantic codes per segment */
  codes: number[][];
  segments: number;
  queueWaitMs: number;
  computeMs: number;
  maxBatch: number;
}
