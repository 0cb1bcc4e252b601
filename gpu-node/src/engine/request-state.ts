/** A job as the engine tracks it: how many codes each segment may generate, and its request and segment state. */
import type { Manifest } from "../model/manifest.ts";
import type { SynthesisJob } from "./api.ts";
import { Rng } from "./rng.ts";
import type { SamplingParams } from "./sampling.ts";
import type { RequestState } from "./types.ts";

export interface CodePlan {
  /** the most codes segment `ids` may generate (random weights: exactly that many) */
  codesFor: (ids: readonly number[]) => number;
  /** codes the whole job is expected to take, for the deadline estimate */
  expectedCodes: number;
  /** random weights: generation ends at `codesFor`, never at the stop token */
  forcedLength: boolean;
}

/**
 * A random-weight model declares its semantic tokens per text token, so its lengths are exact; a real model stops
 * at its stop token, within `max_tokens`, and is expected to take about 10 codes per text token.
 */
export function planCodes(m: Manifest, job: Pick<SynthesisJob, "segments" | "maxTokens">): CodePlan {
  const perToken = m.semantic_tokens_per_text_token;
  const cap = Math.min(job.maxTokens ?? m.gpt.max_mel_tokens, m.gpt.max_mel_tokens);
  const codesFor = (ids: readonly number[]) =>
    perToken === null ? cap : Math.max(1, Math.min(cap, Math.round(ids.length * perToken)));
  const expectedCodes = job.segments.reduce(
    (sum, ids) => sum + (perToken === null ? 10 * ids.length : codesFor(ids)),
    0,
  );
  return { codesFor, expectedCodes, forcedLength: perToken !== null };
}

/** The request and its segments, all waiting, as they enter the queue at `now`. */
export function requestState(
  m: Manifest,
  job: SynthesisJob,
  plan: CodePlan,
  at: { sampling: SamplingParams; now: number; timeoutMs: number },
): RequestState {
  const { now } = at;
  const state: RequestState = {
    id: job.id,
    priority: job.priority,
    voice: job.voice,
    emoVec: job.emoVec,
    speed: job.speed,
    seed: job.seed,
    sampling: at.sampling,
    segments: [],
    arrivedAt: now,
    deadlineAt: now + at.timeoutMs,
    condPrefix: null,
    admittedAt: null,
    maxGptBatch: 0,
    finished: false,
    expectedCodes: plan.expectedCodes,
  };
  const g = m.gpt;
  job.segments.forEach((ids, index) => {
    state.segments.push({
      request: state,
      index,
      textIds: [g.start_text_token, ...ids, g.stop_text_token],
      maxCodes: plan.codesFor(ids),
      forcedLength: plan.forcedLength,
      rng: new Rng(job.seed, index),
      codes: [],
      latents: [],
      stage: "waiting",
      enqueuedAt: now,
      content: null,
      mel: null,
      melFrames: 0,
      audio: null,
    });
  });
  return state;
}

/** A finished request's audio: its segments in order, `silenceSamples` of silence between two (IndexTTS2's interval). */
export function joinSegmentAudio(request: RequestState, silenceSamples: number): Float32Array {
  const parts = request.segments.map((s) => s.audio ?? new Float32Array(0));
  const total = parts.reduce((n, p) => n + p.length, 0) + silenceSamples * Math.max(0, parts.length - 1);
  const audio = new Float32Array(total);
  let offset = 0;
  parts.forEach((p, i) => {
    if (i > 0) offset += silenceSamples;
    audio.set(p, offset);
    offset += p.length;
  });
  return audio;
}
