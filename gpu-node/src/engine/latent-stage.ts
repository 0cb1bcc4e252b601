import type { Manifest } from "../model/manifest.ts";
import { f32, floatOutput, type InferenceBackend, i64 } from "./backend.ts";
import type { GpuStage, Readiness, StepOutcome } from "./stage.ts";
import type { SegmentState } from "./types.ts";

/**
 * The s2mel latents as the official code makes them: after generation, infer_v2.py runs the GPT a second time,
 * teacher-forced, over conditioning + text + the generated codes (`UnifiedVoice.forward`, `return_latent`), and
 * feeds those hidden states to s2mel. The decode steps' own hidden states are not the same: generation feeds code
 * `c_k` at mel position `k + 1`, the teacher-forced pass at `k` (MODEL.md "Mel positions"), so reusing them
 * changed the latents (mean cosine 0.92 on random weights). One `gpt_latent` call per finished segment replaces
 * the segment's latents, then the segment goes on to the projector. One segment per call: the text lengths of two
 * segments differ, and the graph has no text mask; the pass is one batched prompt-like call, cheap next to decode.
 */
export class LatentStage implements GpuStage {
  readonly name = "latent" as const;
  private queue: SegmentState[] = [];

  constructor(
    private readonly backend: InferenceBackend,
    private readonly manifest: Manifest,
  ) {}

  get size(): number {
    return this.queue.length;
  }

  /** every segment the GPT finishes (the projector, after this stage in the pipeline, takes it next) */
  takes(seg: SegmentState): boolean {
    return seg.stage === "projecting";
  }

  accept(seg: SegmentState): void {
    this.queue.push(seg);
  }

  readiness(): Readiness {
    const seg = this.pick();
    return seg ? { ready: true, priority: seg.request.priority } : { ready: false };
  }

  async step(): Promise<StepOutcome> {
    const seg = this.pick();
    if (!seg) return { batch: 0, passed: [] };
    this.queue = this.queue.filter((s) => s !== seg);
    const prefix = seg.request.condPrefix;
    if (!prefix)
      throw new Error(`segment ${seg.index} of ${seg.request.id} reached the latent pass without conditioning`);
    const g = this.manifest.gpt;
    const n = seg.codes.length;
    if (n > 0) {
      const out = await this.backend.run("gpt_latent", {
        cond_prefix: f32(prefix, [1, g.cond_tokens, g.model_dim]),
        text_ids: i64(seg.textIds, [1, seg.textIds.length]),
        codes: i64(seg.codes, [1, n]),
      });
      const latent = floatOutput(out, "latent");
      if (latent.length !== n * g.model_dim)
        throw new Error(`gpt_latent returned ${latent.length} values for ${n} codes of width ${g.model_dim}`);
      seg.latents.length = 0;
      for (let i = 0; i < n; i++) seg.latents.push(latent.slice(i * g.model_dim, (i + 1) * g.model_dim));
    }
    return { batch: 1, passed: [seg] };
  }

  evictFinished(): void {
    this.queue = this.queue.filter((s) => !s.request.finished);
  }

  private pick(): SegmentState | undefined {
    return this.queue.find((s) => s.request.priority === "interactive") ?? this.queue[0];
  }
}
