import type { Manifest } from "../model/manifest.ts";
import { f32, floatOutput, type InferenceBackend, i64 } from "./backend.ts";
import { SequenceSearch } from "./beam-search.ts";
import { BatchKvCache, type CacheShape, capacityFor } from "./kv-cache.ts";
import { cacheNames, checkResidentGraphs, fitWindows, ResidentCache } from "./resident-cache.ts";
import type { GpuStage, Readiness, StepOutcome } from "./stage.ts";
import type { Priority, RequestState, SegmentState } from "./types.ts";

/** A segment being decoded: its search and its beams' rows. */
interface Sequence {
  readonly seg: SegmentState;
  readonly search: SequenceSearch;
  /** cache positions of the prompt (conditioning, text, start_mel): code k is at position prompt + k */
  readonly prompt: number;
}

/** One row of the running batch: beam `beam` of a sequence. */
interface Row {
  readonly seq: Sequence;
  readonly beam: number;
  /** real cache positions of this row */
  length: number;
  /** resident loop: how many of them are in the frozen cache (the rest are in the window) */
  cached: number;
}

interface Joiner {
  seq: Sequence;
  /** host loop: the prefill's cache as host arrays; resident loop: its present_* as resident tensors */
  keys: Float32Array[];
  values: Float32Array[];
  present: Parameters<InferenceBackend["run"]>[1];
  length: number;
}

/**
 * host: the KV cache in host memory, fed whole to every step (`kv-cache.ts`; fastest on the CPU provider, where
 * host memory is the device's); resident: the cache as session outputs fed back unread (`resident-cache.ts`), so
 * the bytes across the host boundary per step do not grow with the history (GPU providers).
 */
export type DecodeLoop = "host" | "resident";

/**
 * The GPT stage with continuous batching: segments are prefilled one at a time, join the running batch at the
 * next step boundary (one row per beam) and leave it when their search ends; every decode step advances all
 * running beams by one code, and a segment's beams are reordered (their cache rows copied) as its search decides.
 */
export class GptStage implements GpuStage {
  readonly name = "decode" as const;
  /** running beams; row b of `cache` belongs to rows[b] */
  private rows: Row[] = [];
  private readonly cache: BatchKvCache;
  private readonly resident: ResidentCache | null;
  private joiners: Joiner[] = [];
  private pendingLeaves: Set<SegmentState> | null = null;
  private readonly shape: CacheShape;
  private readonly d: number;
  private readonly vocab: number;
  /**
   * whether each step's hidden state is kept as the latent of the code drawn from it: only for a model without the
   * teacher-forced latent pass (`gpt_latent`, latent-stage.ts), which otherwise replaces them all once the segment
   * is done. Without this every beam would hold D floats per code until then for nothing.
   */
  private readonly stepLatents: boolean;

  constructor(
    private readonly backend: InferenceBackend,
    private readonly manifest: Manifest,
    loop: DecodeLoop = "host",
  ) {
    const g = manifest.gpt;
    this.shape = { layers: g.layers, heads: g.heads, headDim: g.model_dim / g.heads };
    this.d = g.model_dim;
    this.vocab = g.number_mel_codes;
    this.stepLatents = !("gpt_latent" in manifest.files);
    this.cache = new BatchKvCache(this.shape);
    const kvType = manifest.precision?.kv_cache ?? "float32";
    if (kvType === "float16" && loop !== "resident")
      throw new Error(
        "a float16 KV cache (manifest precision.kv_cache) needs the resident decode loop (--decode-loop resident)",
      );
    this.resident = loop === "resident" ? new ResidentCache(backend, this.shape, kvType) : null;
    // fail at start, not at the first step, when the model directory lacks the resident-loop graphs or has ones
    // older than what this loop feeds
    if (this.resident) checkResidentGraphs(backend);
  }

  /** batch rows running or about to join (a segment takes one per beam) */
  get occupancy(): number {
    return this.active().reduce((n, s) => n + beamsOf(s), 0);
  }

  get size(): number {
    return this.active().length;
  }

  /** segments reach the GPT through admission (its prefill), never from another stage */
  takes(): boolean {
    return false;
  }

  accept(): void {
    throw new Error("segments join the GPT through its prefill");
  }

  readiness(): Readiness {
    if (!this.hasWork) return { ready: false };
    return { ready: true, priority: this.countByPriority("interactive") > 0 ? "interactive" : "batch" };
  }

  async step(): Promise<StepOutcome> {
    const batch = this.occupancy;
    const passed = await this.decodeStep();
    return { batch, passed };
  }

  evictFinished(): void {
    this.evictFinishedRequests();
  }

  /** true when a decode step has sequences to advance */
  get hasWork(): boolean {
    return this.active().length > 0;
  }

  /** batch rows held by segments of this priority */
  countByPriority(priority: Priority): number {
    return this.active()
      .filter((s) => s.request.priority === priority)
      .reduce((n, s) => n + beamsOf(s), 0);
  }

  private active(): SegmentState[] {
    const leaving = this.pendingLeaves;
    const running = new Set<SegmentState>();
    for (const r of this.rows) if (!leaving?.has(r.seq.seg)) running.add(r.seq.seg);
    return [...running, ...this.joiners.map((j) => j.seq.seg)];
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
   * Prefill one segment (batch 1, no padding) and take its search's first step (every beam starts from the prompt).
   * Returns true when the segment is already complete (a one-code segment, or an immediate stop).
   */
  async prefill(seg: SegmentState): Promise<boolean> {
    const prefix = seg.request.condPrefix;
    if (!prefix) throw new Error("prefill before conditioning");
    const g = this.manifest.gpt;
    const out = await this.backend.run(
      "gpt_prefill",
      {
        cond_prefix: f32(prefix, [1, g.cond_tokens, this.d]),
        text_ids: i64(seg.textIds, [1, seg.textIds.length]),
      },
      this.resident ? cacheNames("present", this.shape.layers) : [],
    );
    const search = new SequenceSearch(
      seg.request.sampling,
      {
        vocab: this.vocab,
        stopToken: g.stop_mel_token,
        maxTokens: seg.maxCodes,
        // HF's repetition penalty also sees generate()'s prompt ids: placeholder 1s and start_mel (IndexTTS2)
        promptTokens: [1, g.start_mel_token],
        ...(seg.forcedLength ? { banned: g.stop_mel_token } : {}),
      },
      () => seg.rng.nextFloat(),
    );
    const prompt = g.cond_tokens + seg.textIds.length + 1;
    const seq: Sequence = { seg, search, prompt };
    const hidden = this.stepLatents ? floatOutput(out, "hidden").slice(0, this.d) : null;
    const n = search.numBeams;
    const { done } = search.step(
      floatOutput(out, "logits"),
      Array.from({ length: n }, () => 0),
      Array.from({ length: n }, () => hidden),
    );
    if (done) {
      this.finish(seq);
      return true;
    }
    const keys: Float32Array[] = [];
    const values: Float32Array[] = [];
    for (let l = 0; l < this.shape.layers && !this.resident; l++) {
      keys.push(floatOutput(out, `present_key_${l}`));
      values.push(floatOutput(out, `present_value_${l}`));
    }
    this.joiners.push({ seq, keys, values, present: out, length: prompt });
    return false;
  }

  /**
   * One decode step for every running beam, after letting joiners in and cancelled segments out.
   * Returns the segments that completed in this step (they have left the batch).
   */
  async decodeStep(): Promise<SegmentState[]> {
    if (this.resident) await this.rebatchResident(this.resident);
    else this.rebatch();
    const batch = this.rows.length;
    if (batch === 0) return [];
    const p = this.resident ? 0 : this.cache.capacity;
    const mask = new BigInt64Array(this.resident ? 0 : batch * (p + 1));
    const ids = new BigInt64Array(batch);
    const pos = new BigInt64Array(batch);
    const beamRows = new Map<Sequence, number[]>();
    this.rows.forEach((row, b) => {
      const request = row.seq.seg.request;
      request.maxGptBatch = Math.max(request.maxGptBatch, batch);
      if (!this.resident) {
        mask.fill(1n, b * (p + 1), b * (p + 1) + row.length);
        mask[b * (p + 1) + p] = 1n;
      }
      ids[b] = BigInt(row.seq.search.lastCodes()[row.beam] ?? 0);
      // exact positions, as IndexTTS2's generate: start_mel is mel position 0 and code k is fed at position k + 1
      pos[b] = BigInt(row.seq.search.length + 1);
      const rows = beamRows.get(row.seq) ?? [];
      rows[row.beam] = b;
      beamRows.set(row.seq, rows);
    });
    const out = this.resident ? await this.residentStep(this.resident, ids, pos) : await this.hostStep(ids, pos, mask);
    const logits = floatOutput(out, "logits");
    const hidden = this.stepLatents ? floatOutput(out, "hidden") : null;
    for (const row of this.rows) row.length += 1;
    const done: SegmentState[] = [];
    // resident loop: one gather for all beam reorders of the step (row b takes row perm[b]'s history)
    const perm = this.rows.map((_, b) => b);
    for (const [seq, rows] of beamRows) {
      const result = seq.search.step(
        logits,
        rows.map((b) => b * this.vocab),
        rows.map((b) => hidden?.slice(b * this.d, (b + 1) * this.d) ?? null),
      );
      if (result.done) {
        this.finish(seq);
        done.push(seq.seg);
        continue;
      }
      // each beam's row now holds the history of the beam it continues
      const sources = result.parents.map((parent) => rows[parent] ?? 0);
      if (this.resident) {
        // the beams' frozen rows are equal (a flush freezes only what they share): only the windows move
        for (const [j, target] of rows.entries()) perm[target] = sources[j] ?? target;
      } else this.cache.copyRows(rows, sources, this.rows[rows[0] ?? 0]?.length ?? 0);
    }
    if (this.resident && perm.some((src, b) => src !== b)) this.resident.permuteWindows(perm);
    this.leave(done);
    return done;
  }

  private async hostStep(ids: BigInt64Array, pos: BigInt64Array, mask: BigInt64Array) {
    const batch = this.rows.length;
    const p = this.cache.capacity;
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
    const lengths = this.rows.map((r) => r.length);
    for (let l = 0; l < this.shape.layers; l++) {
      this.cache.appendStep(l, floatOutput(out, `new_key_${l}`), floatOutput(out, `new_value_${l}`), lengths);
    }
    return out;
  }

  /**
   * The graph attends to each row's frozen slots and window and writes the new K/V into window slot
   * `length − cached` (in place where the backend binds it); the cache stays resident.
   */
  private async residentStep(cache: ResidentCache, ids: BigInt64Array, pos: BigInt64Array) {
    const batch = this.rows.length;
    const cached = BigInt64Array.from(this.rows, (r) => BigInt(r.cached));
    const window = BigInt64Array.from(this.rows, (r) => BigInt(r.length - r.cached));
    const { keep, into } = cache.stepOutputs;
    const out = await this.backend.run(
      "gpt_decode_resident",
      {
        mel_ids: i64(ids, [batch, 1]),
        mel_pos: i64(pos, [batch]),
        lengths: i64(cached, [batch]),
        tail_lengths: i64(window, [batch]),
        ...cache.feeds(),
      },
      keep,
      into,
    );
    cache.update(out);
    return out;
  }

  /** rebatch for the resident cache: leavers out (one gather), more slots if needed, joiners in (one row per beam) */
  private async rebatchResident(cache: ResidentCache): Promise<void> {
    const leaves = this.pendingLeaves;
    const joiners = this.joiners.filter((j) => !leaves?.has(j.seq.seg));
    this.joiners = [];
    this.pendingLeaves = null;
    if (leaves && leaves.size > 0) {
      const keep = this.rows.flatMap((r, b) => (leaves.has(r.seq.seg) ? [] : [b]));
      if (keep.length < this.rows.length) {
        await cache.gather(keep);
        this.rows = keep.map((b) => this.rows[b] as Row);
      }
    }
    if (this.rows.length === 0 && joiners.length === 0) return cache.clear();
    // as the host loop: attention reads every frozen slot, so give them back when the longest rows have left
    const frozen = capacityFor([...this.rows.map((r) => r.cached), ...joiners.map((j) => j.length)]);
    if (frozen * 2 <= cache.capacity) await cache.shrink(frozen);
    for (const j of joiners) {
      await cache.join(j.present, j.length, j.seq.search.numBeams);
      for (let beam = 0; beam < j.seq.search.numBeams; beam++)
        this.rows.push({ seq: j.seq, beam, length: j.length, cached: j.length });
    }
    await fitWindows(
      cache,
      this.rows.map((r) => ({ row: r, prompt: r.seq.prompt, shared: () => r.seq.search.sharedLength() })),
    );
  }

  /** Drop segments whose request ended (cancelled, timed out) before the next step. */
  evictFinishedRequests(): SegmentState[] {
    const evicted: SegmentState[] = [];
    this.joiners = this.joiners.filter((j) => {
      if (!j.seq.seg.request.finished) return true;
      evicted.push(j.seq.seg);
      return false;
    });
    for (const seg of new Set(this.rows.map((r) => r.seq.seg))) if (seg.request.finished) evicted.push(seg);
    this.leave(evicted);
    return evicted;
  }

  private finish(seq: Sequence): void {
    const { codes, latents } = seq.search.result();
    seq.seg.codes.push(...codes);
    seq.seg.latents.push(...latents);
    if (codes.length === 0) {
      // an immediate stop token: the segment is silent and complete
      seq.seg.audio = new Float32Array(0);
      seq.seg.stage = "done";
    } else seq.seg.stage = "projecting";
  }

  private leave(segs: readonly SegmentState[]): void {
    if (segs.length === 0) return;
    this.pendingLeaves ??= new Set();
    for (const s of segs) this.pendingLeaves.add(s);
  }

  /**
   * Let leavers out and joiners in (one cache row per beam), and grow the capacity when a row would not fit the
   * next token (or shrink it when the longest rows have left).
   */
  private rebatch(): void {
    const leaves = this.pendingLeaves;
    if (leaves && leaves.size > 0) {
      for (let b = this.rows.length - 1; b >= 0; b--) {
        const row = this.rows[b];
        if (!row || !leaves.has(row.seq.seg)) continue;
        const moved = this.cache.removeRow(b);
        const last = this.rows.pop();
        if (moved !== null && last) this.rows[b] = last;
      }
    }
    const joiners = this.joiners.filter((j) => !leaves?.has(j.seq.seg));
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
      for (let beam = 0; beam < j.seq.search.numBeams; beam++) {
        this.cache.addRow({ keys: j.keys, values: j.values, index: 0, capacity: j.length, length: j.length });
        this.rows.push({ seq: j.seq, beam, length: j.length, cached: j.length });
      }
    }
  }
}

/** batch rows a segment takes: one per beam */
export function beamsOf(seg: SegmentState): number {
  return Math.max(1, Math.floor(seg.request.sampling.numBeams));
}
