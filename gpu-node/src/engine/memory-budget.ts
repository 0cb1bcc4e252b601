import type { Manifest } from "../model/manifest.ts";
import type { RequestState } from "./types.ts";

/**
 * Peak memory of a request, estimated before it is admitted, and a budget admission keeps the sum under
 * (issue 14 #1: four long requests took a node from 342 MB to 5.8 GB; sixteen would exhaust a 24 GB host).
 *
 * What a request holds at its peak, per segment, from its planned lengths and the model's dimensions (fp32):
 * - the GPT's KV cache, `layers × 2 × D` floats per position (cond + text + codes) and beam, counted three times: the cache,
 *   the `present` tensors a decode step returns, and the copy when the cache grows;
 * - the GPT latents kept for the projector (`D` floats per code);
 * - the CFM's mel and its classifier-free-guidance twin plus the DiT's working rows (`2 × (n_mels + content_dim)`
 *   floats per frame);
 * - the segment's audio (`hop` samples per frame);
 * plus, once per request, the vocoder's working set for its longest segment (the widest upsampling layer:
 * `channels / 2^k × frames × Π rates`, four buffers of it: input, output and the residual blocks' two) and the
 * joined audio with its 16-bit WAV. The engine releases what a request holds when it settles.
 *
 * The estimate is an upper bound by design, checked by gpu-node/bench/memory.ts (RELIABILITY.md): a request that
 * would not fit next to those admitted waits in the queue (it keeps its place; already admitted requests continue),
 * and one larger than the whole budget is refused up front.
 */
export interface MemoryModel {
  bytesPerPosition: number;
  bytesPerCode: number;
  bytesPerFrame: number;
  vocoderBytesPerFrame: number;
  framesPerCode: number;
  condPositions: number;
  samplesPerFrame: number;
}

const F32 = 4;

export function memoryModel(m: Manifest): MemoryModel {
  const D = m.gpt.model_dim;
  const voc = m.architecture?.vocoder;
  const rates = voc?.upsample_rates ?? [m.hop_length];
  const channels = voc?.initial_channels ?? 512;
  // Layer k of the vocoder has channels / 2^(k+1) channels over frames × Π rates[0..k] samples: the widest one.
  let widest = channels; // the input convolution: channels × frames
  let length = 1;
  rates.forEach((r, k) => {
    length *= r;
    widest = Math.max(widest, (channels / 2 ** (k + 1)) * length);
  });
  return {
    bytesPerPosition: 3 * m.gpt.layers * 2 * D * F32,
    bytesPerCode: D * F32,
    bytesPerFrame: (2 * (m.s2mel.n_mels + m.s2mel.content_dim) + m.hop_length) * F32,
    vocoderBytesPerFrame: 4 * widest * F32,
    framesPerCode: m.s2mel.code_to_frame_ratio,
    condPositions: m.gpt.cond_tokens,
    samplesPerFrame: m.hop_length,
  };
}

/** Upper bound of the bytes a request holds at its peak (see above). */
export function estimateRequestBytes(
  model: MemoryModel,
  request: Pick<RequestState, "speed"> & {
    segments: readonly { textIds: readonly number[]; maxCodes: number }[];
    sampling?: { numBeams: number };
  },
): number {
  // each beam is a row of the GPT batch with its own cache and latents (beam-search.ts)
  const beams = Math.max(1, request.sampling?.numBeams ?? 1);
  let bytes = 0;
  let longestFrames = 0;
  let totalFrames = 0;
  for (const seg of request.segments) {
    const frames = Math.ceil((model.framesPerCode * seg.maxCodes) / Math.max(request.speed, 0.1));
    longestFrames = Math.max(longestFrames, frames);
    totalFrames += frames;
    bytes += beams * (model.condPositions + seg.textIds.length + seg.maxCodes) * model.bytesPerPosition;
    bytes += beams * seg.maxCodes * model.bytesPerCode + frames * model.bytesPerFrame;
  }
  // the vocoder's working set (one segment at a time), the joined float audio and its 16-bit WAV
  bytes += longestFrames * model.vocoderBytesPerFrame + totalFrames * model.samplesPerFrame * (F32 + 2);
  return Math.ceil(bytes);
}

/** The sum of admitted requests' estimates, kept under `budgetBytes` (Infinity: unbounded). */
export class MemoryBudget {
  readonly #held = new Map<string, number>();
  #reserved = 0;

  constructor(
    readonly model: MemoryModel,
    readonly budgetBytes: number,
  ) {}

  get reservedBytes(): number {
    return this.#reserved;
  }

  estimate(request: Parameters<typeof estimateRequestBytes>[1]): number {
    return estimateRequestBytes(this.model, request);
  }

  /** Whether `request` can be admitted now (one already holding its share always can). */
  fits(request: RequestState): boolean {
    return this.#held.has(request.id) || this.#reserved + this.estimate(request) <= this.budgetBytes;
  }

  reserve(request: RequestState): void {
    if (this.#held.has(request.id)) return;
    const bytes = this.estimate(request);
    this.#held.set(request.id, bytes);
    this.#reserved += bytes;
  }

  release(requestId: string): void {
    const bytes = this.#held.get(requestId);
    if (bytes === undefined) return;
    this.#held.delete(requestId);
    this.#reserved -= bytes;
  }
}
