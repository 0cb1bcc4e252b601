import {
  type Feeds,
  type InferenceBackend,
  i64,
  RESIDENT_GRAPH_NAMES,
  type ResidentGraph,
  type Tensor,
} from "./backend.ts";
import { type CacheOps, type CachePart, emptyPart } from "./cache-ops.ts";
import { cacheNames, outputsOf, tensorAt } from "./cache-tensors.ts";
import { GraphCacheOps } from "./graph-cache-ops.ts";
import { HostCacheOps } from "./host-cache-ops.ts";
import { CAPACITY_STEP, type CacheShape } from "./kv-cache.ts";

export { cacheNames };

/**
 * The KV cache of the running GPT batch kept where the sessions put it (issue 13): resident tensors the host never
 * reads across a device boundary, in two parts per layer (gpu-node/MODEL.md "The decode loop on a GPU"):
 *
 * - the frozen cache (S, H, capacity, hd): one row per sequence, the first `cached` slots all its beams share,
 *   written by a flush only;
 * - the window (B, H, window, hd): the latest tokens of each row (beam), written by every decode step
 *   (`gpt_decode_resident` writes the step's K/V into slot `length − cached`, bound in place where the backend can).
 *
 * So a step rewrites only the window, never the whole cache, and the cache is written once per flush. A flush
 * moves only the prefix all beams of a sequence share, so the beams read one frozen row: the step multiplies their
 * queries together with it (`groups`), so 3 beams read their history once, not three times (a decode step's cost
 * is its memory traffic: weights and cache), the frozen cache holds a third of the bytes, and a beam reorder moves
 * window rows only. Where the tensors live (device memory: small graphs; host memory: copies of what moves, with
 * spare rows as the host loop's cache) is `CacheOps`. Only row indices, lengths and capacities cross the host
 * boundary.
 */
export class ResidentCache {
  private frozen: CachePart = emptyPart;
  private tails: CachePart = emptyPart;
  /** running frozen rows (sequences) and rows (beams) */
  sequences = 0;
  rows = 0;
  capacity = 0;
  window = 0;
  /** row b's frozen row (its sequence's) */
  private frozenRow: number[] = [];
  /** beam reorders not applied yet: row b's window is window row `pending[b]` (the next step applies them) */
  private pending: number[] | null = null;
  /** the window views the last `feeds()` handed the step (its present_* are written into them) */
  private fedTails: Tensor[] | null = null;
  private readonly ops: CacheOps;
  private readonly names: { past: string[]; tail: string[]; present: string[] };

  constructor(
    private readonly backend: InferenceBackend,
    shape: CacheShape,
    /** the cache tensors' number format (the manifest's `precision.kv_cache`) */
    dtype: "float32" | "float16" = "float32",
  ) {
    const host = backend.hostMemory?.();
    this.ops = host ? new HostCacheOps(host, backend, shape, dtype) : new GraphCacheOps(backend, shape, dtype);
    const n = (p: string) => cacheNames(p, shape.layers);
    this.names = { past: n("past"), tail: n("tail"), present: n("present") };
  }

  /** window slots are added in steps of this many (short where a flush is a copy, longer where it is a graph) */
  get windowStep(): number {
    return this.ops.windowStep;
  }

  /**
   * what a decode step feeds: past_* (frozen cache), tail_* (window), `rows` (pending reorders), and which rows share
   * a frozen row: `groups` (S, G) the rows of each (the first repeated up to the most beams G), `group_slot` (B, 2)
   * where row b is in them
   */
  feeds(): Feeds {
    const rows = this.pending ?? Array.from({ length: this.rows }, (_, b) => b);
    const members = Array.from({ length: this.sequences }, (): number[] => []);
    const slot: number[] = [];
    this.frozenRow.forEach((s, b) => {
      const group = members[s] as number[];
      slot.push(s, group.length);
      group.push(b);
    });
    const width = Math.max(1, ...members.map((m) => m.length));
    const groups = members.flatMap((m) => Array.from({ length: width }, (_, j) => m[j] ?? (m[0] as number)));
    const feeds: Feeds = {
      rows: i64(rows, [rows.length]),
      groups: i64(groups, [this.sequences, width]),
      group_slot: i64(slot, [this.rows, 2]),
    };
    const frozen = this.ops.running(this.frozen, this.sequences);
    const tails = this.ops.running(this.tails, this.rows);
    this.fedTails = tails;
    this.names.past.forEach((n, i) => {
      feeds[n] = tensorAt(frozen, i);
    });
    this.names.tail.forEach((n, i) => {
      feeds[n] = tensorAt(tails, i);
    });
    return feeds;
  }

  /** the decode step's present_* are its window: written into the tail_* buffers where the backend can */
  get stepOutputs(): { keep: string[]; into: Record<string, string> } {
    return {
      keep: this.names.present,
      into: Object.fromEntries(this.names.present.map((n, i) => [n, this.names.tail[i] as string])),
    };
  }

  /** take a decode step's present_* as the new window (the pending reorders are in it now) */
  update(out: Feeds): void {
    const next = outputsOf(out, this.names.present, "decode");
    const inPlace = next.every((t, i) => t === this.fedTails?.[i]);
    this.fedTails = null;
    this.pending = null;
    if (inPlace) return; // written into the windows' rows where they lie
    this.tails = this.replace(this.tails, { tensors: next, room: this.rows });
  }

  /**
   * Rows leaving (whole sequences: all their beams): keep these rows (ascending). The windows are selected in order;
   * the frozen rows of the sequences that stay are kept where they lie where rows can be written in place, the last
   * ones moving into the holes (as the host loop's cache), elsewhere selected in order.
   */
  async gather(keep: readonly number[]): Promise<void> {
    if (keep.length === 0) {
      this.clear();
      return;
    }
    const windows = keep.map((r) => this.pending?.[r] ?? r);
    this.pending = null;
    const stay = [...new Set(keep.map((b) => this.frozenRow[b] as number))].sort((x, y) => x - y);
    const moved = new Map<number, number>(stay.map((s, i) => [s, i]));
    if (stay.length < this.sequences && this.ops.move) {
      const m = stay.length;
      const kept = new Set(stay);
      const movers = stay.filter((s) => s >= m);
      const holes = Array.from({ length: m }, (_, s) => s).filter((s) => !kept.has(s));
      const moves = holes.map((hole, j) => [movers[j] as number, hole] as const);
      await this.ops.move(this.frozen, this.capacity, moves);
      for (const s of stay) moved.set(s, s < m ? s : (holes[movers.indexOf(s)] as number));
    } else if (stay.length < this.sequences) {
      const next = await this.ops.select(this.frozen, this.sequences, this.capacity, stay);
      this.frozen = this.replace(this.frozen, next);
    }
    this.frozenRow = keep.map((b) => moved.get(this.frozenRow[b] as number) as number);
    this.sequences = stay.length;
    this.tails = this.replace(this.tails, await this.ops.select(this.tails, this.rows, this.window, windows));
    this.rows = keep.length;
  }

  /**
   * Beams reordered within their sequences (row b continues row `rows[b]`): only the windows move, since the
   * beams share their frozen row, and not now: the next decode step gathers them as it reads them.
   */
  permuteWindows(rows: readonly number[]): void {
    this.pending = rows.map((r) => this.pending?.[r] ?? r);
  }

  private async applyPending(): Promise<void> {
    if (!this.pending) return;
    const rows = this.pending;
    this.pending = null;
    this.tails = this.replace(this.tails, await this.ops.select(this.tails, this.rows, this.window, rows));
  }

  /** at least `capacity` frozen slots per row (zeros, masked until written) */
  async grow(capacity: number): Promise<void> {
    if (capacity <= this.capacity) return;
    await this.resizeFrozen(capacity);
  }

  /** fewer frozen slots (every row's frozen part must fit): after the longest rows have left */
  async shrink(capacity: number): Promise<void> {
    if (capacity >= this.capacity) return;
    await this.resizeFrozen(capacity);
  }

  private async resizeFrozen(capacity: number): Promise<void> {
    if (this.sequences > 0)
      this.frozen = this.replace(
        this.frozen,
        await this.ops.resize(this.frozen, this.sequences, this.capacity, capacity),
      );
    this.capacity = capacity;
  }

  /** `window` slots per row in the window */
  async growWindow(window: number): Promise<void> {
    if (window <= this.window) return;
    await this.applyPending();
    if (this.rows > 0)
      this.tails = this.replace(this.tails, await this.ops.resize(this.tails, this.rows, this.window, window));
    this.window = window;
  }

  /** a prefilled sequence (prefill's present_*, resident) joins: one frozen row, and `copies` rows (one per beam) */
  async join(present: Feeds, length: number, copies: number): Promise<void> {
    if (this.window === 0) this.window = this.ops.windowStep;
    await this.grow(Math.ceil(length / CAPACITY_STEP) * CAPACITY_STEP);
    const row = outputsOf(present, this.names.present, "prefill");
    await this.applyPending();
    this.frozen = this.replace(
      this.frozen,
      await this.ops.append(this.frozen, this.sequences, this.capacity, row, length, 1),
    );
    this.tails = this.replace(this.tails, await this.ops.append(this.tails, this.rows, this.window, null, 0, copies));
    this.free(row, []);
    for (let c = 0; c < copies; c++) this.frozenRow.push(this.sequences);
    this.sequences += 1;
    this.rows += copies;
  }

  /**
   * Freeze each row's first `shift[b]` window slots after its `cached[b]` frozen slots, and shift its window left by
   * as many. The beams of a sequence share both (a flush freezes what they share), so one of them gives its frozen
   * row the slots. The frozen part grows to what is frozen (a sequence with nothing to freeze rewrites its first free
   * slot, masked, so it needs one).
   */
  async flush(cached: readonly number[], shift: readonly number[]): Promise<void> {
    await this.applyPending();
    const lengths: number[] = [];
    const moved: number[] = [];
    const src: number[] = [];
    this.frozenRow.forEach((s, b) => {
      const [c, n] = [cached[b] ?? 0, shift[b] ?? 0];
      if (src[s] === undefined) [lengths[s], moved[s], src[s]] = [c, n, b];
      else if (lengths[s] !== c || moved[s] !== n)
        throw new Error(`resident cache: the beams of frozen row ${s} flush differently (${c}+${n})`);
    });
    const need = Math.max(...lengths.map((c, s) => c + Math.max(moved[s] ?? 0, 1)));
    if (need > this.capacity) await this.grow(Math.ceil(need / CAPACITY_STEP) * CAPACITY_STEP);
    const plan = { lengths, shift: moved, src, tailShift: shift };
    const next = await this.ops.flush(
      this.frozen,
      this.sequences,
      this.capacity,
      this.tails,
      this.rows,
      this.window,
      plan,
    );
    this.frozen = this.replace(this.frozen, next.frozen);
    this.tails = this.replace(this.tails, next.tails);
  }

  clear(): void {
    this.pending = null;
    this.frozen = this.replace(this.frozen, emptyPart);
    this.tails = this.replace(this.tails, emptyPart);
    this.sequences = 0;
    this.rows = 0;
    this.capacity = 0;
    this.window = 0;
    this.frozenRow = [];
  }

  /** `next` in place of `old`: frees the tensors of `old` that `next` does not hold */
  private replace(old: CachePart, next: CachePart): CachePart {
    this.free(old.tensors, next.tensors);
    return next;
  }

  private free(old: readonly Tensor[], kept: readonly Tensor[]): void {
    for (const t of old) if (!kept.includes(t)) this.backend.release?.(t);
  }
}

/** inputs the resident loop feeds that older resident graphs lack (one frozen row per sequence, issue 13) */
const NEWER_INPUTS: Partial<Record<ResidentGraph, readonly string[]>> = {
  gpt_decode_resident: ["groups", "group_slot"],
  cache_flush: ["src", "tail_shift"],
};

/** at start, not at the first step: every resident-loop graph there, none older than what the loop feeds */
export function checkResidentGraphs(backend: InferenceBackend): void {
  for (const graph of RESIDENT_GRAPH_NAMES) {
    const inputs = backend.signature(graph).inputs;
    const missing = (NEWER_INPUTS[graph] ?? []).filter((n) => !inputs.includes(n));
    if (missing.length > 0)
      throw new Error(
        `${graph}.onnx lacks the inputs ${missing.join(", ")} (older resident-loop graphs): ` +
          "regenerate them with gpu-node/tools/resident_graphs.py MODEL_DIR",
      );
  }
}

/** a running row as the window bookkeeping sees it */
export interface WindowRow {
  /** positions in the cache (`length`), of which `cached` are frozen */
  row: { readonly length: number; cached: number };
  /** positions of the prompt: code k is at position prompt + k */
  prompt: number;
  /** leading codes all beams of the row's sequence share (`SequenceSearch.sharedLength`) */
  shared: () => number;
}

/**
 * Make room in every row's window for the next token: when one is full, freeze what each sequence's beams share
 * (a flush, which advances the rows' `cached`), and widen the window if a sequence's beams still share little of it.
 */
export async function fitWindows(cache: ResidentCache, rows: readonly WindowRow[]): Promise<void> {
  const fill = () => Math.max(...rows.map(({ row }) => row.length - row.cached));
  if (fill() < cache.window) return;
  const shift = rows.map(({ row, prompt, shared }) => {
    const fed = row.length - prompt;
    return Math.max(0, prompt + Math.min(shared(), fed) - row.cached);
  });
  if (shift.some((n) => n > 0)) {
    await cache.flush(
      rows.map(({ row }) => row.cached),
      shift,
    );
    rows.forEach(({ row }, b) => {
      row.cached += shift[b] ?? 0;
    });
  }
  // a sequence whose beams froze little would fill its window again at once (a flush per step): widen it instead
  const step = cache.windowStep;
  if (fill() > cache.window - step / 2) await cache.growWindow(cache.window + step);
}
