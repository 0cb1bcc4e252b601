import type { Manifest } from "../model/manifest.ts";
import { f32, floatOutput, type InferenceBackend, i64 } from "./backend.ts";
import { BatchKvCache, type CacheShape, capacityFor } from "./kv-cache.ts";
import { sampleToken } from "./sampling.ts";
import type { RequestState, SegmentState } from "./types.ts";

interface Row {
  seg: SegmentState;
  /** real cache positions of this row */
  length: number;
}

interface Joiner {
  seg: SegmentState;
  keys: Float32Array[];
  values: Float32Array[];
  length: number;
}

/**
 * The GPT stage with continuous batching: sequences are prefilled one at a time, join the running batch at the
 * next step boundary and leave it at their stop; every decode step advances all running sequences by one code.
 */
export class GptStage {
  /** running sequences; row b of `cache` belongs to rows[b] */
  private rows: Row[] = [];
  private readonly cache: BatchKvCache;
  private joiners: Joiner[] = [];
  private readonly shape: CacheShape;
  private readonly d: number;
  private readonly vocab: number;
  private readonly stopToken: number;

  constructor(
    private readonly backend: InferenceBackend,
    private readonly manifest: Manifest,
  ) {
    const g = manifest.gpt;
    this.shape = { layers: g.layers, heads: g.heads, headDim: g.model_dim / g.heads };
    this.d = g.model_dim;
    this.vocab = g.number_mel_codes;
    this.stopToken = g.stop_mel_token;
    this.cache = new BatchKvCache(this.shape);
  }

  /** sequences running or about to join */
  get occupancy(): number {
    return this.active().length;
  }

  /** true when a decode step has sequences to advance */
  get hasWork(): boolean {
    return this.active().length > 0;
  }

  countByPriority(priority: "interactive" | "batch"): number {
    return this.active().filter((s) => s.request.priority === priority).length;
  }

  private active(): SegmentState[] {
    const leaving = this.pendingLeaves;
    const running = this.rows.map((r) => r.seg).filter((s) => !leaving?.has(s));
    return [...running, ...this.joiners.map((j) => j.seg)];
  }

  /** stage 7: the request's conditioning prefix (speaker latent + emotion vector + speed embeddings) */
  async condition(request: RequestState): Promise<void> {
    const out = await this.backend.run("gpt_conditioning", {
      speaker_latent: f32(request.voice.speakerLatent, [1, 32, this.d]),
      emo_vec: f32(request.emoVec, [1, this.d]),
    });
    request.condPrefix = floatOutput(out, "cond_prefix").slice();
  }

  /**
   * Prefill one segment (batch 1, no padding) and sample its first code.
   * Returns true when the segment is already complete (a one-code segment, or an immediate stop).
   */
  async prefill(seg: SegmentState): Promise<boolean> {
    const prefix = seg.request.condPrefix;
    if (!prefix) throw new Error("prefill before conditioning");
    const out = await this.backend.run("gpt_prefill", {
      cond_prefix: f32(prefix, [1, this.manifest.gpt.cond_tokens, this.d]),
      text_ids: i64(seg.textIds, [1, seg.textIds.length]),
    });
    const logits = floatOutput(out, "logits");
    seg.latents.push(floatOutput(out, "hidden").slice(0, this.d));
    const length = this.manifest.gpt.cond_tokens + seg.textIds.length + 1;
    if (this.accept(seg, logits, 0)) {
      this.trimLatents(seg);
      return true;
    }
    const keys: Float32Array[] = [];
    const values: Float32Array[] = [];
    for (let l = 0; l < this.shape.layers; l++) {
      keys.push(floatOutput(out, `present_key_${l}`));
      values.push(floatOutput(out, `present_value_${l}`));
    }
    this.joiners.push({ seg, keys, values, length });
    return false;
  }

  /**
   * One decode step for every running sequence, after letting joiners in and cancelled sequences out.
   * Returns the segments that completed in this step (they have left the batch).
   */
  async step(): Promise<SegmentState[]> {
    this.rebatch();
    const batch = this.rows.length;
    if (batch === 0) return [];
    for (const row of this.rows) row.seg.request.maxGptBatch = Math.max(row.seg.request.maxGptBatch, batch);
    const p = this.cache.capacity;
    const mask = new BigInt64Array(batch * (p + 1));
    const ids = new BigInt64Array(batch);
    const pos = new BigInt64Array(batch);
    this.rows.forEach((row, b) => {
      mask.fill(1n, b * (p + 1), b * (p + 1) + row.length);
      mask[b * (p + 1) + p] = 1n;
      ids[b] = BigInt(row.seg.codes[row.seg.codes.length - 1] ?? 0);
      pos[b] = BigInt(row.seg.codes.length);
    });
    const feeds: Parameters<InferenceBackend["run"]>[1] = {
      mel_ids: i64(ids, [batch, 1]),
      mel_pos: i64(pos, [batch]),
      attention_mask: i64(mask, [batch, p + 1]),
    };
    const { heads, headDim } = this.shape;
    for (let l = 0; l < this.shape.layers; l++) {
      feeds[`past_key_${l}`] = f32(this.cache.keys(l), [batch, heads, p, headDim]);
      feeds[`past_value_${l}`] = f32(this.cache.values(l), [batch, heads, p, headDim]);
    }
    const out = await this.backend.run("gpt_decode", feeds);
    const logits = floatOutput(out, "logits");
    const hidden = floatOutput(out, "hidden");
    const lengths = this.rows.map((r) => r.length);
    for (let l = 0; l < this.shape.layers; l++) {
      this.cache.appendStep(l, floatOutput(out, `new_key_${l}`), floatOutput(out, `new_value_${l}`), lengths);
    }
    const done: SegmentState[] = [];
    this.rows.forEach((row, b) => {
      row.length += 1;
      row.seg.latents.push(hidden.slice(b * this.d, (b + 1) * this.d));
      if (this.accept(row.seg, logits, b * this.vocab)) {
        this.trimLatents(row.seg);
        done.push(row.seg);
      }
    });
    this.leave(done);
    return done;
  }

  private pendingLeaves: Set<SegmentState> | null = null;

  /** Drop sequences whose request ended (cancelled, timed out) before the next step. */
  evictFinishedRequests(): SegmentState[] {
    const evicted: SegmentState[] = [];
    this.joiners = this.joiners.filter((j) => {
      if (!j.seg.request.finished) return true;
      evicted.push(j.seg);
      return false;
    });
    for (const row of this.rows) if (row.seg.request.finished) evicted.push(row.seg);
    this.leave(evicted);
    return evicted;
  }

  private leave(segs: readonly SegmentState[]): void {
    if (segs.length === 0) return;
    this.pendingLeaves ??= new Set();
    for (const s of segs) this.pendingLeaves.add(s);
  }

  /**
   * Let leavers out and joiners in (one cache row each), and grow the capacity when a row would not fit the next
   * token (or shrink it when the longest rows have left).
   */
  private rebatch(): void {
    const leaves = this.pendingLeaves;
    if (leaves && leaves.size > 0) {
      for (let b = this.rows.length - 1; b >= 0; b--) {
        const row = this.rows[b];
        if (!row || !leaves.has(row.seg)) continue;
        const moved = this.cache.removeRow(b);
        const last = this.rows.pop();
        if (moved !== null && last) this.rows[b] = last;
      }
    }
    const joiners = this.joiners.filter((j) => !leaves?.has(j.seg));
    this.joiners = [];
    this.pendingLeaves = null;
    if (this.rows.length === 0 && joiners.length === 0) {
      this.cache.clear();
      return;
    }
    const lengths = this.rows.map((r) => r.length);
    const needed = capacityFor([...lengths, ...joiners.map((j) => j.length)]);
    if (needed > this.cache.capacity || needed * 2 <= this.cache.capacity) this.cache.resize(needed, lengths);
    for (const j of joiners) {
      this.cache.addRow({ keys: j.keys, values: j.values, index: 0, capacity: j.length, length: j.length });
      this.rows.push({ seg: j.seg, length: j.length });
    }
  }

  /** Sample the next code of `seg` from `logits[offset…]`; returns true when the segment is complete. */
  private accept(seg: SegmentState, logits: Float32Array, offset: number): boolean {
    const code = sampleToken(
      logits,
      offset,
      this.vocab,
      seg.seen,
      seg.request.sampling,
      seg.rng,
      seg.forcedLength ? this.stopToken : undefined,
    );
    if (code === this.stopToken) return true;
    seg.codes.push(code);
    seg.seen.add(code);
    return seg.codes.length >= seg.maxCodes;
  }

  /** n codes have n latents: the hidden states at [start_mel, c1 … c(n-1)] */
  private trimLatents(seg: SegmentState): void {
    seg.latents.length = Math.min(seg.latents.length, seg.codes.length);
  }
}
