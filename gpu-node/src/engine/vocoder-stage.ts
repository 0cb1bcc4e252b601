import type { Manifest } from "../model/manifest.ts";
import { f32, floatOutput, type InferenceBackend, i64 } from "./backend.ts";
import { selectBatch } from "./batch-select.ts";
import type { BatchingOptions } from "./s2mel-stage.ts";
import { type GpuStage, priorityOf, type Readiness, type StepOutcome } from "./stage.ts";
import type { Priority, SegmentState } from "./types.ts";

interface VocoderRow {
  readonly seg: SegmentState;
  readonly priority: Priority;
  readonly frames: number;
  readonly enqueuedAt: number;
  readonly started: false;
}

/** BigVGAN, batched by length bucket with zero padding and per-row `mel_lens` masks. */
export class VocoderStage implements GpuStage {
  readonly name = "vocoder" as const;
  private rows: VocoderRow[] = [];

  constructor(
    private readonly backend: InferenceBackend,
    private readonly manifest: Manifest,
    private readonly options: BatchingOptions,
  ) {}

  get size(): number {
    return this.rows.length;
  }

  takes(seg: SegmentState): boolean {
    return seg.stage === "vocoding";
  }

  readiness(): Readiness {
    return this.rows.length > 0 ? { ready: true, priority: priorityOf(this.rows) } : { ready: false };
  }

  accept(seg: SegmentState, now: number): void {
    this.rows.push({ seg, priority: seg.request.priority, frames: seg.melFrames, enqueuedAt: now, started: false });
  }

  evictFinished(): void {
    this.rows = this.rows.filter((r) => !r.seg.request.finished);
  }

  /** Vocode the next bucket; returns the segments that now have audio. */
  async step(): Promise<StepOutcome> {
    const batch = selectBatch(this.rows, this.options.maxBatch, this.options.maxPadRatio);
    const b = batch.length;
    if (b === 0) return { passed: [], batch: 0 };
    const m = this.manifest.s2mel.n_mels;
    const hop = this.manifest.hop_length;
    const t = batch.reduce((mx, r) => Math.max(mx, r.frames), 0);
    const mel = new Float32Array(b * m * t);
    const lens = new BigInt64Array(b);
    batch.forEach((row, i) => {
      const src = row.seg.mel ?? new Float32Array(m * row.frames);
      for (let mm = 0; mm < m; mm++) {
        mel.set(src.subarray(mm * row.frames, (mm + 1) * row.frames), (i * m + mm) * t);
      }
      lens[i] = BigInt(row.frames);
    });
    const out = await this.backend.run("vocoder", { mel: f32(mel, [b, m, t]), mel_lens: i64(lens, [b]) });
    const audio = floatOutput(out, "audio");
    const picked = new Set(batch.map((r) => r.seg));
    for (const [i, row] of batch.entries()) {
      row.seg.audio = audio.slice(i * t * hop, i * t * hop + row.frames * hop);
      row.seg.mel = null;
      row.seg.stage = "done";
    }
    this.rows = this.rows.filter((r) => !picked.has(r.seg));
    return { passed: batch.map((r) => r.seg), batch: b };
  }
}
