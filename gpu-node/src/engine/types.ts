import type { Voice } from "../model/voices.ts";
import type { Rng } from "./rng.ts";
import type { SamplingParams } from "./sampling.ts";

export type Priority = "interactive" | "batch";

/** One synthesis request inside the engine. Its text is split into segments that move through the stages. */
export interface RequestState {
  readonly id: string;
  readonly priority: Priority;
  readonly voice: Voice;
  /** (D) mixed emotion vector */
  readonly emoVec: Float32Array;
  readonly speed: number;
  readonly seed: number;
  readonly sampling: SamplingParams;
  readonly segments: SegmentState[];
  readonly arrivedAt: number;
  /** absolute time (ms, engine clock) after which the request fails with DEADLINE_EXCEEDED */
  readonly deadlineAt: number;
  /** (34, D) conditioning prefix, computed on admission */
  condPrefix: Float32Array | null;
  admittedAt: number | null;
  maxGptBatch: number;
  finished: boolean;
  readonly expectedCodes: number;
}

export type SegmentStage = "waiting" | "decoding" | "projecting" | "cfm" | "vocoding" | "done";

export interface SegmentState {
  readonly request: RequestState;
  readonly index: number;
  /** `[start_text] ids [stop_text]` */
  readonly textIds: readonly number[];
  /** stop after this many codes (random weights: the declared length; real weights: max_tokens) */
  readonly maxCodes: number;
  /** random weights: the stop token is banned and generation ends at exactly `maxCodes` */
  readonly forcedLength: boolean;
  readonly rng: Rng;
  readonly codes: number[];
  readonly latents: Float32Array[];
  stage: SegmentStage;
  enqueuedAt: number;
  /** (generated frames, C) length-regulated content, from the projector to the CFM */
  content: Float32Array | null;
  /** (M, frames) generated mel, after the CFM */
  mel: Float32Array | null;
  melFrames: number;
  audio: Float32Array | null;
}
