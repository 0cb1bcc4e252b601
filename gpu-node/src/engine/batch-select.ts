import type { Priority } from "./types.ts";

export interface Batchable {
  readonly priority: Priority;
  /** length in frames: rows of one batch are padded to the longest */
  readonly frames: number;
  /** rows already under way go before new ones */
  readonly started: boolean;
  readonly enqueuedAt: number;
}

/**
 * Pick the rows of the next batch: interactive before batch priority (batch rows only when no interactive row
 * waits), rows under way before new ones, oldest first; then add rows while the padding stays within
 * `maxPadRatio` (longest / shortest), up to `maxBatch` rows.
 */
export function selectBatch<T extends Batchable>(rows: readonly T[], maxBatch: number, maxPadRatio: number): T[] {
  const hasInteractive = rows.some((r) => r.priority === "interactive");
  const eligible = rows
    .filter((r) => !hasInteractive || r.priority === "interactive")
    .toSorted((a, b) => Number(b.started) - Number(a.started) || a.enqueuedAt - b.enqueuedAt);
  const picked: T[] = [];
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  for (const row of eligible) {
    if (picked.length >= maxBatch) break;
    const lo = Math.min(min, row.frames);
    const hi = Math.max(max, row.frames);
    if (picked.length > 0 && hi / lo > maxPadRatio) continue;
    picked.push(row);
    min = lo;
    max = hi;
  }
  return picked;
}
