import { admissionCandidate } from "./admission.ts";
import type { EngineOptions } from "./api.ts";
import { beamsOf, type GptStage } from "./gpt-stage.ts";
import type { MemoryBudget } from "./memory-budget.ts";
import type { StageName } from "./observer.ts";
import type { GpuStage, Readiness, StepOutcome } from "./stage.ts";
import type { SegmentState } from "./types.ts";

export interface AdmitDeps {
  gpt: GptStage;
  /** admitted requests' estimated peak memory stays under its budget (./memory-budget.ts) */
  memory: Pick<MemoryBudget, "fits" | "reserve">;
  options: Pick<EngineOptions, "maxBatch" | "reservedInteractiveSlots" | "maxQueueDelayMs">;
  /** segments past the GPT without audio yet */
  downstreamRows: () => number;
  now: () => number;
  timed: <T>(stage: StageName, batch: number, fn: () => Promise<T>) => Promise<T>;
}

/**
 * Admission into the GPT batch: the waiting segments, the policy of `admission.ts` (priorities, reserved slots,
 * memory, Triton's queue delay), and for the admitted segment its request's conditioning (once) and its prefill.
 * A segment takes one batch row per beam; it joins when its beams fit, or alone when it has more than maxBatch.
 */
export class AdmitStage implements GpuStage {
  readonly name = "admit" as const;
  private waiting: SegmentState[] = [];
  private next: SegmentState | null = null;

  constructor(private readonly deps: AdmitDeps) {}

  get size(): number {
    return this.waiting.length;
  }

  takes(seg: SegmentState): boolean {
    return seg.stage === "waiting";
  }

  accept(seg: SegmentState): void {
    this.waiting.push(seg);
  }

  readiness(now: number): Readiness {
    const { gpt, options } = this.deps;
    const admit = admissionCandidate({
      waiting: this.waiting,
      occupancy: gpt.occupancy,
      batchOccupancy: gpt.countByPriority("batch"),
      downstreamRows: this.deps.downstreamRows(),
      options,
      now,
      fitsMemory: (r) => this.deps.memory.fits(r),
    });
    const seg = admit.segment;
    this.next = seg && (gpt.occupancy === 0 || gpt.occupancy + beamsOf(seg) <= options.maxBatch) ? seg : null;
    if (this.next) return { ready: true, priority: this.next.request.priority };
    return admit.wakeAt !== undefined ? { ready: false, wakeAt: admit.wakeAt } : { ready: false };
  }

  async step(): Promise<StepOutcome> {
    const seg = this.next;
    this.next = null;
    if (!seg) return { batch: 0, passed: [] };
    this.waiting = this.waiting.filter((s) => s !== seg);
    const { gpt, timed } = this.deps;
    const request = seg.request;
    if (request.admittedAt === null) {
      this.deps.memory.reserve(request);
      request.admittedAt = this.deps.now();
    }
    if (!request.condPrefix) await timed("conditioning", 1, () => gpt.condition(request));
    seg.stage = "decoding";
    const complete = await timed("prefill", 1, () => gpt.prefill(seg));
    return { batch: 1, passed: complete ? [seg] : [] };
  }

  evictFinished(): void {
    this.waiting = this.waiting.filter((s) => !s.request.finished);
  }
}
