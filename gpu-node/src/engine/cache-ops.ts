import type { Tensor } from "./backend.ts";

/**
 * One part of the resident cache (the frozen rows or the windows): per layer a key and a value tensor laid out
 * (rows, H, slots, hd), of which `room` rows exist; the first rows are running, the rest spare.
 */
export interface CachePart {
  readonly tensors: Tensor[];
  readonly room: number;
}

export const emptyPart: CachePart = { tensors: [], room: 0 };

/** What a flush moves: per frozen row (sequence) and per row (beam). */
export interface FlushPlan {
  /** per frozen row: its frozen slots, the window slots it freezes, the row whose window gives them */
  readonly lengths: readonly number[];
  readonly shift: readonly number[];
  readonly src: readonly number[];
  /** per row: how far its window shifts left */
  readonly tailShift: readonly number[];
}

/**
 * The resident cache's operations on its parts, where the tensors live (`ResidentCache` keeps the bookkeeping):
 * graph calls where they live in device memory (`graph-cache-ops.ts`), copies of what moves where they live in
 * host memory (`host-cache-ops.ts`). Each returns the part to use from then on; the caller frees the tensors of the
 * old part that the new one does not hold.
 */
export interface CacheOps {
  /**
   * window slots are added in steps of this many: a step rewrites the window, so short where a flush is cheap (a
   * copy of what moves), longer where a flush is a graph call rewriting the frozen cache
   */
  readonly windowStep: number;
  /** the first `count` rows of a part, as the decode step reads them */
  running(part: CachePart, count: number): Tensor[];
  /**
   * `copies` rows after a part's `count` running rows (`slots` slots each), each a copy of `source`'s one row
   * (`sourceSlots` slots, the rest zeros) or, without a source, slots the lengths mask
   */
  append(
    part: CachePart,
    count: number,
    slots: number,
    source: readonly Tensor[] | null,
    sourceSlots: number,
    copies: number,
  ): Promise<CachePart>;
  /** the running rows `rows`, in this order, as a part of their own */
  select(part: CachePart, count: number, slots: number, rows: readonly number[]): Promise<CachePart>;
  /** rows copied within a part (`[from, to]`, in order), where rows can be written in place; else absent */
  move?(part: CachePart, slots: number, moves: readonly (readonly [number, number])[]): Promise<void>;
  /** the running rows with `to` slots each instead of `from` (cropped or padded with zeros) */
  resize(part: CachePart, count: number, from: number, to: number): Promise<CachePart>;
  /** freeze what `plan` says into `frozen` (`capacity` slots) from `tails` (`window` slots), shifting the windows */
  flush(
    frozen: CachePart,
    sequences: number,
    capacity: number,
    tails: CachePart,
    rows: number,
    window: number,
    plan: FlushPlan,
  ): Promise<{ frozen: CachePart; tails: CachePart }>;
}
