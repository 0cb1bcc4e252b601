import type { Manifest } from "../model/manifest.ts";
import { f32, floatOutput, type InferenceBackend, i64 } from "./backend.ts";
import { selectBatch } from "./batch-select.ts";
import { Rng } from "./rng.ts";
import { type GpuStage, priorityOf, type Readiness, type StepOutcome } from "./stage.ts";
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
 * Semantic-to-mel (stage 12): the flow-matching CFM with classifier-free guidance over the projector's content,
 * batched at the level of single Euler steps: rows at different steps share one DiT call
 * (each row carries its own `t`), new rows join at any step and finished rows leave.
 */
export class S2melStage implements GpuStage {
  readonly name = "cfm_step" as const;
  private rows: CfmRow[] = [];
  private readonly m: number;
  private readonly c: number;

  constructor(
    private readonly backend: InferenceBackend,
    private readonly manifest: Manifest,
    private readonly options: BatchingOptions,
    /** true while the GPT has work that could add rows soon */
    private readonly upstreamBusy: () => boolean,
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

  takes(seg: SegmentState): boolean {
    return seg.stage === "cfm";
  }

  /** a projected segment joins: noise where speech is generated, its content after the voice's prompt condition */
  accept(seg: SegmentState, now: number): void {
    const genFrames = seg.melFrames;
    const content = seg.content;
    if (!content) throw new Error("a segment reached the CFM without content");
    const voice = seg.request.voice;
    const frames = voice.refFrames + genFrames;
    const cond = new Float32Array(frames * this.c);
    cond.set(voice.promptCondition, 0);
    cond.set(content, voice.refFrames * this.c);
    seg.content = null;
    const x = new Float32Array(this.m * frames);
    const rng = new Rng(seg.request.seed, NOISE_STREAM + seg.index);
    for (let mm = 0; mm < this.m; mm++) {
      // the prompt region starts (and stays) at zero; noise only where speech is generated
      for (let t = voice.refFrames; t < frames; t++) x[mm * frames + t] = rng.nextNormal();
    }
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
  readiness(now: number): Readiness {
    if (this.rows.length === 0) return { ready: false };
    const ready = { ready: true, priority: priorityOf(this.rows) } as const;
    if (this.inProgress || !this.upstreamBusy() || this.rows.length >= this.options.maxBatch) return ready;
    const oldest = Math.min(...this.rows.map((r) => r.enqueuedAt));
    const wakeAt = oldest + this.options.maxQueueDelayMs;
    return now >= wakeAt ? ready : { ready: false, wakeAt };
  }

  /** Drop rows whose request has ended. */
  evictFinished(): void {
    this.rows = this.rows.filter((r) => !r.seg.request.finished);
  }

  /** One Euler step for the selected rows; returns the segments whose mel is complete. */
  async step(): Promise<StepOutcome> {
    const batch = selectBatch(this.rows, this.options.maxBatch, this.options.maxPadRatio);
    const b = batch.length;
    if (b === 0) return { passed: [], batch: 0 };
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
    return { passed: done, batch: b };
  }
}
