/**
 * The article's bottleneck rule, applied to what was measured at the capacity limit:
 *   SM ≈ 100 %            → compute-bound (batch better, use FP16, or a faster card);
 *   memory > 90 %         → memory-bound (lower the batch size or use a card with more memory);
 *   both low, yet slow    → the GPU waits: CPU pre-processing (text front-end, audio encoding) or I/O.
 * "Memory" is read both ways the article's readers meet it: dmon's `mem` (memory-controller busy %) and the share
 * of GPU memory in use (--query-gpu memory.used / memory.total).
 */
import type { SpanFigures } from "./sampler.ts";

export const BOTTLENECK_RULE =
  "SM ≈ 100 % → compute-bound; memory > 90 % → memory-bound (lower batch or bigger card); both low yet slow → CPU pre-processing or I/O (the article's rule)";

export type Verdict = "compute-bound" | "memory-bound" | "cpu-or-io-bound" | "not-saturated" | "no-gpu-data";

export interface BottleneckResult {
  verdict: Verdict;
  rule: string;
  /** why, in words, with the figures */
  reason: string;
}

/** SM at or above this counts as "≈ 100 %". */
export const SM_SATURATED = 95;
export const MEMORY_LIMIT = 90;
/** below this both count as "low" */
export const LOW = 70;

/**
 * `slow`: the SLO was missed (or latency grew) at this load. Without GPU figures (a CPU-only run) no GPU verdict is
 * possible; the engine's busy share is reported instead, as the nearest thing to SM % on a CPU.
 */
export function classifyBottleneck(f: SpanFigures, slow: boolean): BottleneckResult {
  const pct = (x: number | null) => (x === null ? "n/a" : `${x.toFixed(0)} %`);
  if (f.smPercent === null) {
    const busy =
      f.engineBusy === null
        ? "the gpu-node's engine busy share was not measured either (no node /metrics)"
        : `the gpu-node's engine was busy ${(f.engineBusy * 100).toFixed(0)} % of the time (share of wall time in ONNX graph calls, the nearest CPU analogue of SM %)`;
    return {
      verdict: "no-gpu-data",
      rule: BOTTLENECK_RULE,
      reason: `no GPU was measured (nvidia-smi absent or silent), so the rule's inputs are missing; ${busy}`,
    };
  }
  const mem = Math.max(f.memPercent ?? 0, f.memoryUsedPercent ?? 0);
  const figures = `SM ${pct(f.smPercent)}, memory controller ${pct(f.memPercent)}, memory in use ${pct(f.memoryUsedPercent)}`;
  if (f.smPercent >= SM_SATURATED)
    return { verdict: "compute-bound", rule: BOTTLENECK_RULE, reason: `${figures}: SM ≈ 100 %` };
  if (mem > MEMORY_LIMIT)
    return { verdict: "memory-bound", rule: BOTTLENECK_RULE, reason: `${figures}: memory > 90 %` };
  if (slow && f.smPercent < LOW && mem < LOW) {
    return {
      verdict: "cpu-or-io-bound",
      rule: BOTTLENECK_RULE,
      reason: `${figures}: both low while the SLO is missed`,
    };
  }
  return { verdict: "not-saturated", rule: BOTTLENECK_RULE, reason: `${figures}: no limit of the rule is reached` };
}
