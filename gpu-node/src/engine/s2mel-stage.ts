import type { Manifest } from "../model/manifest.ts";
import { f32, floatOutput, type InferenceBackend, i64 } from "./backend.ts";
import { selectBatch } from "./batch-select.ts";
import { Rng } from "./rng.ts";
import type { Priority, SegmentState } from "./types.ts";

/** RNG stream of a segment's CFM noise, distinct from its sampling stream */
const NOISE_STREAM = 0x5eed;

interface CfmRow {
  readonly seg: SegmentState;
  readonly priority: Priority;
  readonly refFrames: number;
  /** prompt + generated frames */
  readonly frames: number;
  /** (M, frames) current state of the flow */
  readonly x: Float32Array;
  /** (frames, C) prompt condition followed by the regulated content */
  readonly cond: Float32Array;
  readonly enqueuedAt: number;
  step: number;
  started: boolean;
}

export interface BatchingOptions {
  maxBatch: number;
  maxQueueDelayMs: number;
  maxPadRatio: number;
}

/**
 * Semantic-to-mel: latent projector and length regulator per segment, then the flow-matching CFM with
 * classifier-free guidance, batched at the level of single Euler steps: rows at different steps share one DiT call
 * (each row carries its own `t`), new rows join at any step and finished rows leave.
 */
export class S2melStage {
  private rows: CfmRow[] = [];
  private readonly m: number;
  private readonly c: number;

  constructor(
    private readonly backend: InferenceBackend,
    private readonly manifest: Manifest,
    private readonly options: BatchingOptions,
  ) {
    this.m = manifest.s2mel.n_mels;
    this.c = manifest.s2mel.content_dim;
  }

  get size(): number {
    return this.rows.length;
  }

  get inProgress(): boolean {
    return this.rows.some((r) => r.started);
  }

  countByPriority(priority: Priority): number {
    return this.rows.filter((r) => r.priority === priority).length;
  }

  /** stages 10–11 for one finished GPT segment (batch 1: GroupNorm in the regulator spans time) */
  async prepare(seg: SegmentState, now: number): Promise<void> {
    const n = seg.codes.length;
    const d = this.manifest.gpt.model_dim;
    const latent = new Float32Array(n * d);
    for (const [i, h] of seg.latents.entries()) latent.set(h, i * d);
    const projected = await this.backend.run("latent_projector", {
      latent: f32(latent, [1, n, d]),
      codes: i64(seg.codes, [1, n]),
    });
    const genFrames = Math.max(1, Math.floor((this.manifest.s2mel.code_to_frame_ratio * n) / seg.request.speed));
    const regulated = await this.backend.run("length_regulator", {
      s_infer: f32(floatOutput(projected, "s_infer"), [1, n, this.manifest.semantic.hidden_size]),
      target_len: i64([genFrames], [1]),
    });
    const voice = seg.request.voice;
    const frames = voice.refFrames + genFrames;
    const cond = new Float32Array(frames * this.c);
    cond.set(voice.promptCondition, 0);
    cond.set(floatOutput(regulated, "cond").subarray(0, genFrames * this.c), voice.refFrames * this.c);
    const x = new Float32Array(this.m * frames);
    const rng = new Rng(seg.request.seed, NOISE_STREAM + seg.index);
    for (let mm = 0; mm < this.m; mm++) {
      // the prompt region starts (and stays) at zero; noise only where speech is generated
      for (let t = voice.refFrames; t < frames; t++) x[mm * frames + t] = rng.nextNormal();
    }
    seg.stage = "cfm";
    this.rows.push({
      seg,
      priority: seg.request.priority,
      refFrames: voice.refFrames,
      frames,
      x,
      cond,
      enqueuedAt: now,
      step: 0,
      started: false,
    });
  }

  /**
   * Whether a step should run now. New rows wait up to `maxQueueDelayMs` for company unless a batch is full,
   * rows are already under way, or the GPT has nothing running that could add rows soon.
   */
  readiness(now: number, upstreamBusy: boolean): { ready: boolean; wakeAt?: number } {
    if (this.rows.length === 0) return { ready: false };
    if (this.inProgress || !upstreamBusy || this.rows.length >= this.options.maxBatch) return { ready: true };
    const oldest = Math.min(...this.rows.map((r) => r.enqueuedAt));
    const wakeAt = oldest + this.options.maxQueueDelayMs;
    return now >= wakeAt ? { ready: true } : { ready: false, wakeAt };
  }

  /** Drop rows whose request has ended. */
  evictFinishedRequests(): void {
    this.rows = this.rows.filter((r) => !r.seg.request.finished);
  }

  /** One Euler step for the selected rows; returns the segments whose mel is complete. */
  async step(): Promise<{ done: SegmentState[]; batch: number }> {
    const batch = selectBatch(this.rows, this.options.maxBatch, this.options.maxPadRatio);
    const b = batch.length;
    if (b === 0) return { done: [], batch: 0 };
    const steps = this.manifest.s2mel.cfm_steps;
    const cfg = this.manifest.s2mel.cfg_rate;
    const y = this.manifest.s2mel.style_dim;
    const m = this.m;
    const c = this.c;
    const t = batch.reduce((mx, r) => Math.max(mx, r.frames), 0);
    // Rows 0..b-1 are conditional, rows b..2b-1 unconditional (zero prompt, style and condition).
    const x = new Float32Array(2 * b * m * t);
    const promptX = new Float32Array(2 * b * m * t);
    const cond = new Float32Array(2 * b * t * c);
    const style = new Float32Array(2 * b * y);
    const lens = new BigInt64Array(2 * b);
    const times = new Float32Array(2 * b);
    batch.forEach((row, i) => {
      const voice = row.seg.request.voice;
      for (let mm = 0; mm < m; mm++) {
        const src = row.x.subarray(mm * row.frames, (mm + 1) * row.frames);
        x.set(src, (i * m + mm) * t);
        x.set(src, ((b + i) * m + mm) * t);
        promptX.set(voice.refMel.subarray(mm * row.refFrames, (mm + 1) * row.refFrames), (i * m + mm) * t);
      }
      cond.set(row.cond, i * t * c);
      style.set(voice.style, i * y);
      lens[i] = BigInt(row.frames);
      lens[b + i] = BigInt(row.frames);
      times[i] = row.step / steps;
      times[b + i] = row.step / steps;
      row.started = true;
    });
    const out = await this.backend.run("dit_step", {
      x: f32(x, [2 * b, m, t]),
      prompt_x: f32(promptX, [2 * b, m, t]),
      x_lens: i64(lens, [2 * b]),
      t: f32(times, [2 * b]),
      style: f32(style, [2 * b, y]),
      cond: f32(cond, [2 * b, t, c]),
    });
    const velocity = floatOutput(out, "output");
    const dt = 1 / steps;
    const done: SegmentState[] = [];
    batch.forEach((row, i) => {
      for (let mm = 0; mm < m; mm++) {
        const vc = (i * m + mm) * t;
        const vu = ((b + i) * m + mm) * t;
        const base = mm * row.frames;
        for (let f = row.refFrames; f < row.frames; f++) {
          const v = (1 + cfg) * (velocity[vc + f] ?? 0) - cfg * (velocity[vu + f] ?? 0);
          row.x[base + f] = (row.x[base + f] ?? 0) + dt * v;
        }
      }
      row.step += 1;
      if (row.step >= steps) {
        const gen = row.frames - row.refFrames;
        const mel = new Float32Array(m * gen);
        for (let mm = 0; mm < m; mm++) {
          mel.set(row.x.subarray(mm * row.frames + row.refFrames, (mm + 1) * row.frames), mm * gen);
        }
        row.seg.mel = mel;
        row.seg.melFrames = gen;
        row.seg.stage = "vocoding";
        done.push(row.seg);
      }
    });
    if (done.length > 0) this.rows = this.rows.filter((r) => r.step < steps);
    return { done, batch: b };
  }
}
