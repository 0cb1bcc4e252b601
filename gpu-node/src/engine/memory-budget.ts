import type { Manifest } from "../model/manifest.ts";
import { CAPACITY_STEP } from "./kv-cache.ts";
import type { RequestState } from "./types.ts";

/**
 * Peak memory of a request, estimated before it is admitted, and a budget admission keeps the sum under
 * (issue 14 #1: four long requests took a node from 342 MB to 5.8 GB; sixteen would exhaust a 24 GB host).
 *
 * What the admitted requests hold, from their planned lengths and the model's dimensions (fp32), until they settle:
 * - per segment, the GPT latents kept for the projector (`D` floats per code): per beam where each decode step's
 *   hidden state is kept, once where the teacher-forced latent pass makes them after the segment (`gpt_latent`);
 * - per segment, per mel frame: the content, the flow state, the finished mel and audio (`2 × n_mels +
 *   2 × content_dim + hop` floats);
 * - per request, the joined audio and its 16-bit WAV.
 * What they share, which is not a per-request sum:
 * - the GPT's KV cache, one batch buffer (kv-cache.ts): every row is padded to the longest row's capacity, row
 *   slots grow by doubling (at least 4) and are kept while the batch runs, and growing the capacity copies the
 *   whole buffer (old and new both alive): `2 × slots × capacity × layers × 2 × D` floats, `slots` for the most
 *   rows the admitted set (and those admitted with it since the node was last idle) could put in the batch,
 *   `capacity` for its longest segment;
 * - the working set of one graph call: the engine runs one at a time, and a CFM or vocoder call takes at most
 *   `maxBatch` segments, each padded to the longest. Per row: the CFM step's inputs and output with their
 *   classifier-free-guidance twins (`6 × n_mels + 2 × content_dim` floats per frame) and its self-attention
 *   (`3 × 2 × heads × T²`: scores, softmax, masked copy; two CFG rows; `T` = prompt + frames), or the vocoder's
 *   `8 + 8 × resblocks` buffers of its widest upsampling layer (`channels / 2^k × frames × Π rates`); or, where
 *   the model has it, the teacher-forced latent pass over one segment (attention quadratic in its positions). A
 *   decode step's own working set is small next to its cache (about 9 MB for 16 full rows on small).
 * gpu-node/bench/memory-stages.ts measures each call's peak at full length against these terms (RELIABILITY.md),
 * and gpu-node/bench/memory.ts the whole node under load.
 *
 * A request that would not fit next to those admitted waits in the queue (it keeps its place; admitted requests
 * continue), and one larger than the whole budget is refused up front (413).
 */
export interface MemoryModel {
  /** one position of one batch row's KV cache, all layers, keys and values */
  kvBytesPerPosition: number;
  bytesPerCode: number;
  /** held per mel frame of a segment until the request settles */
  bytesPerFrame: number;
  /** one CFM step's inputs and output per frame of a row (without the attention) */
  cfmBytesPerFrame: number;
  vocoderBytesPerFrame: number;
  /** the CFM's attention heads (scores are quadratic in the frames) */
  ditHeads: number;
  framesPerCode: number;
  condPositions: number;
  /**
   * the GPT's attention heads when the model has the teacher-forced latent pass (`gpt_latent`, infer_v2.py's second
   * GPT run over cond + text + codes, one segment per call); null without it
   */
  latentPassHeads: number | null;
  /** the longest voice prompt the CFM prepends to a segment */
  promptFrames: number;
  samplesPerFrame: number;
}

const F32 = 4;
/** kv-cache.ts's smallest number of row slots */
const MIN_ROW_SLOTS = 4;
/** IndexTTS2's DiT (8 heads) where a manifest does not say */
const DEFAULT_DIT_HEADS = 8;

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
  const { n_mels, content_dim } = m.s2mel;
  return {
    kvBytesPerPosition: m.gpt.layers * 2 * D * F32,
    bytesPerCode: D * F32,
    bytesPerFrame: (2 * n_mels + 2 * content_dim + m.hop_length) * F32,
    cfmBytesPerFrame: (6 * n_mels + 2 * content_dim) * F32,
    // measured on small (one resblock kernel): up to 16 buffers of the widest layer at its peak (memory-stages.ts);
    // each further parallel resblock (full has three) is counted with 8 more
    vocoderBytesPerFrame: (8 + 8 * (voc?.resblock_kernel_sizes?.length ?? 3)) * widest * F32,
    ditHeads: m.architecture?.s2mel?.dit?.num_heads ?? DEFAULT_DIT_HEADS,
    framesPerCode: m.s2mel.code_to_frame_ratio,
    condPositions: m.gpt.cond_tokens,
    latentPassHeads: "gpt_latent" in m.files ? m.gpt.heads : null,
    promptFrames: Math.max(...m.voices.map((v) => v.ref_frames)),
    samplesPerFrame: m.hop_length,
  };
}

/** The engine option the estimate depends on. */
export interface BatchShape {
  /** GPT batch rows, and CFM or vocoder rows per call (a segment with more beams runs alone, with all of them) */
  maxBatch: number;
}

const UNBOUNDED: BatchShape = { maxBatch: Number.POSITIVE_INFINITY };

export type EstimatedRequest = Pick<RequestState, "speed"> & {
  segments: readonly { textIds: readonly number[]; maxCodes: number }[];
  sampling?: { numBeams: number };
};

/** What one request adds to the node: its own buffers, and what it asks of the shared cache and graph calls. */
export interface RequestShare {
  /** bytes it holds outside the KV cache and the graph calls */
  own: number;
  /** GPT batch rows if all its segments decode at once (one per beam) */
  rows: number;
  /** rows of one segment (its beams run together, even beyond maxBatch) */
  minRows: number;
  /** cache positions of its longest segment */
  positions: number;
  segments: number;
  /** mel frames of its longest segment */
  frames: number;
}

/**
 * One CFM step's attention for one segment of `frames` (prompt included; its two CFG rows): the scores, their
 * softmax and the masked copy, 3 buffers of `heads × frames²` per row (memory-stages.ts measured up to 2.4 on small).
 */
export function ditAttentionBytes(model: MemoryModel, frames: number): number {
  return 3 * 2 * model.ditHeads * frames * frames * F32;
}

/** The larger of one CFM step's and one vocoder call's working set for one segment of `frames` mel frames. */
export function callBytesPerSegment(model: MemoryModel, frames: number): number {
  if (frames <= 0) return 0;
  const cfm =
    ditAttentionBytes(model, frames + model.promptFrames) + (frames + model.promptFrames) * model.cfmBytesPerFrame;
  return Math.max(cfm, frames * model.vocoderBytesPerFrame);
}

/**
 * The latent pass over one segment of `positions` (cond + text + codes), batch 1: its attention (scores, softmax,
 * masked copy: `3 × heads × T²`) and a layer's activations (hidden, q/k/v, the MLP's 4 × D: `8 × T × D`).
 * Not measured yet (the graph lands with the fidelity work): gpu-node/bench/memory-stages.ts should add it.
 */
export function latentPassBytes(model: MemoryModel, positions: number): number {
  if (model.latentPassHeads === null || positions <= 0) return 0;
  const d = model.bytesPerCode / F32;
  return (3 * model.latentPassHeads * positions * positions + 8 * positions * d) * F32;
}

export function requestShare(model: MemoryModel, request: EstimatedRequest): RequestShare {
  // each beam is a row of the GPT batch with its own cache and latents (beam-search.ts)
  const beams = Math.max(1, request.sampling?.numBeams ?? 1);
  let own = 0;
  let totalFrames = 0;
  let positions = 0;
  let longest = 0;
  for (const seg of request.segments) {
    const frames = Math.ceil((model.framesPerCode * seg.maxCodes) / Math.max(request.speed, 0.1));
    totalFrames += frames;
    longest = Math.max(longest, frames);
    positions = Math.max(positions, model.condPositions + seg.textIds.length + seg.maxCodes);
    // the latents: each beam keeps one per code while it decodes, unless the latent pass makes them afterwards
    // (gpt-stage.ts keeps no step latents then: one set per segment, the pass's output)
    const latentSets = model.latentPassHeads === null ? beams : 1;
    own += latentSets * seg.maxCodes * model.bytesPerCode + frames * model.bytesPerFrame;
  }
  // the joined float audio and its 16-bit WAV
  own += totalFrames * model.samplesPerFrame * (F32 + 2);
  const segments = request.segments.length;
  return { own, rows: segments * beams, minRows: beams, positions, segments, frames: longest };
}

/** The KV cache's bytes for `rows` batch rows (slots double from 4) whose longest holds `positions`. */
export function kvCacheBytes(model: MemoryModel, rows: number, positions: number): number {
  if (rows <= 0) return 0;
  const slots = Math.max(MIN_ROW_SLOTS, 2 ** Math.ceil(Math.log2(rows)));
  const capacity = Math.ceil((positions + 1) / CAPACITY_STEP) * CAPACITY_STEP;
  // the buffer, and its copy while the capacity grows
  return 2 * slots * capacity * model.kvBytesPerPosition;
}

/** Bytes of a set of admitted requests (see above); `rows`: the KV cache's rows (the high-water mark). */
export function setBytes(model: MemoryModel, shares: Iterable<RequestShare>, shape: BatchShape, rows?: number): number {
  let own = 0;
  let positions = 0;
  let frames = 0;
  let segments = 0;
  let allRows = 0;
  let widest = 0;
  for (const s of shares) {
    own += s.own;
    positions = Math.max(positions, s.positions);
    frames = Math.max(frames, s.frames);
    segments += s.segments;
    allRows += s.rows;
    widest = Math.max(widest, s.minRows);
  }
  const batchRows = rows ?? Math.min(allRows, Math.max(shape.maxBatch, widest));
  const call = Math.max(
    Math.min(segments, shape.maxBatch) * callBytesPerSegment(model, frames),
    latentPassBytes(model, positions),
  );
  return Math.ceil(own + kvCacheBytes(model, batchRows, positions) + call);
}

/** Upper bound of the bytes a request holds at its peak on a node otherwise idle (see above). */
export function estimateRequestBytes(model: MemoryModel, request: EstimatedRequest, shape = UNBOUNDED): number {
  return setBytes(model, [requestShare(model, request)], shape);
}

/**
 * The default budget: 60 % of the memory this process may use (the host's, or its container's limit) less what
 * the node already holds (the loaded model), never under 256 MiB. The rest is left to the OS, the allocator's
 * slack and the runtime.
 */
export function defaultMemoryBudgetBytes(availableBytes: number, residentBytes: number): number {
  return Math.max(256 * 2 ** 20, Math.floor(0.6 * availableBytes - residentBytes));
}

/** The admitted requests' estimated bytes, kept under `budgetBytes` (Infinity: unbounded). */
export class MemoryBudget {
  readonly #held = new Map<string, RequestShare>();
  /** batch rows the admitted set could have reached since the node was last idle: the cache keeps its row slots */
  #rowsHighWater = 0;

  constructor(
    readonly model: MemoryModel,
    readonly budgetBytes: number,
    readonly shape: BatchShape = UNBOUNDED,
  ) {}

  get reservedBytes(): number {
    return this.#held.size === 0 ? 0 : setBytes(this.model, this.#held.values(), this.shape, this.#rowsHighWater);
  }

  /** The request alone on an idle node (what is compared with the whole budget). */
  estimate(request: EstimatedRequest): number {
    return estimateRequestBytes(this.model, request, this.shape);
  }

  /** Whether `request` can be admitted now (one already holding its share always can). */
  fits(request: RequestState): boolean {
    if (this.#held.has(request.id)) return true;
    const shares = [...this.#held.values(), requestShare(this.model, request)];
    const rows = Math.max(this.#rowsHighWater, this.#rows(shares));
    return setBytes(this.model, shares, this.shape, rows) <= this.budgetBytes;
  }

  reserve(request: RequestState): void {
    if (this.#held.has(request.id)) return;
    this.#held.set(request.id, requestShare(this.model, request));
    this.#rowsHighWater = Math.max(this.#rowsHighWater, this.#rows(this.#held.values()));
  }

  release(requestId: string): void {
    this.#held.delete(requestId);
    if (this.#held.size === 0) this.#rowsHighWater = 0;
  }

  /** GPT rows `shares` could put in the batch at once: all their beams, within the batch size */
  #rows(shares: Iterable<RequestShare>): number {
    let rows = 0;
    let widest = 0;
    for (const s of shares) {
      rows += s.rows;
      widest = Math.max(widest, s.minRows);
    }
    return Math.min(rows, Math.max(this.shape.maxBatch, widest));
  }
}
