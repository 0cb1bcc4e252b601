import type { Manifest } from "../model/manifest.ts";
import { f32, floatOutput, type InferenceBackend, i64 } from "./backend.ts";
import type { GpuStage, Readiness, StepOutcome } from "./stage.ts";
import type { SegmentState } from "./types.ts";

/**
 * Stages 10–11 per finished GPT segment: latent projector and length regulator, one segment per call (GroupNorm
 * in the regulator spans time, and both are cheap). Passes the segment on with its regulated content.
 */
export class ProjectorStage implements GpuStage {
  readonly name = "projector" as const;
  private queue: SegmentState[] = [];

  constructor(
    private readonly backend: InferenceBackend,
    private readonly manifest: Manifest,
  ) {}

  get size(): number {
    return this.queue.length;
  }

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
    seg.content = floatOutput(regulated, "cond").slice(0, genFrames * this.manifest.s2mel.content_dim);
    seg.melFrames = genFrames;
    seg.stage = "cfm";
    return { batch: 1, passed: [seg] };
  }

  evictFinished(): void {
    this.queue = this.queue.filter((s) => !s.request.finished);
  }

  private pick(): SegmentState | undefined {
    return this.queue.find((s) => s.request.priority === "interactive") ?? this.queue[0];
  }
}
