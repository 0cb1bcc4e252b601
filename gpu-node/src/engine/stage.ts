import type { StageName } from "./observer.ts";
import type { Priority, SegmentState } from "./types.ts";

/**
 * What every stage of the pipeline offers the engine (admission, GPT decode, projector, CFM, vocoder, …): whether
 * it has a graph call to make and for which priority, the call itself, and the eviction of finished requests'
 * rows. The engine keeps them in one ordered list; a segment a stage passes on goes to the next stage in the list
 * that takes it, and a segment no later stage takes is complete. A new stage is one file and one list entry.
 */
export interface GpuStage {
  readonly name: StageName | "admit";
  /** segments this stage holds (queued or under way) */
  readonly size: number;
  /** whether `seg`, passed on by an earlier stage, goes here */
  takes(seg: SegmentState): boolean;
  accept(seg: SegmentState, now: number): void;
  readiness(now: number): Readiness;
  /** one graph call (or admission); returns the batch it ran and the segments it passes on */
  step(now: number): Promise<StepOutcome>;
  /** drop the rows of requests that have ended (cancelled, failed, timed out) */
  evictFinished(): void;
}

export type Readiness = { ready: true; priority: Priority } | { ready: false; wakeAt?: number };

export interface StepOutcome {
  batch: number;
  passed: SegmentState[];
}

/** "interactive" if any of the rows is, else "batch" */
export function priorityOf(rows: Iterable<{ readonly priority: Priority }>): Priority {
  for (const r of rows) if (r.priority === "interactive") return "interactive";
  return "batch";
}

export interface Candidate {
  /** position of the stage in the pipeline */
  index: number;
  priority: Priority;
  /** a stage that may run several turns in a row while it has work (admission fills the batch before a step) */
  sticky?: boolean;
}

/**
 * The scheduling policy, pure: interactive work first; among equals, round-robin over the pipeline after the stage
 * that ran last, so that every stage keeps moving; a sticky stage that ran last goes again while it is ready (so a
 * batch that forms while the GPT is idle starts whole instead of ramping up one sequence per step).
 */
export function pickStage(candidates: readonly Candidate[], last: number): Candidate | null {
  if (candidates.length === 0) return null;
  const interactive = candidates.filter((c) => c.priority === "interactive");
  const pool = (interactive.length > 0 ? interactive : candidates).toSorted((a, b) => a.index - b.index);
  const again = pool.find((c) => c.sticky && c.index === last);
  return again ?? pool.find((c) => c.index > last) ?? pool[0] ?? null;
}
