import { type Feeds, f32, type InferenceBackend, i64, type Tensor } from "./backend.ts";
import { CAPACITY_STEP, type CacheShape } from "./kv-cache.ts";

/** names of a cache's tensors in a graph's inputs or outputs, layer by layer: `${prefix}_key_0`, `${prefix}_value_0`, … */
export const cacheNames = (prefix: string, layers: number): string[] =>
  Array.from({ length: layers }, (_, i) => [`${prefix}_key_${i}`, `${prefix}_value_${i}`]).flat();

/** Window slots are added in steps of this many: a step rewrites the whole window, so keep it short. */
export const WINDOW_STEP = 16;

/**
 * The KV cache of the running GPT batch kept where the sessions put it (issue 13): resident tensors the host never
 * reads, in two parts per layer (gpu-node/MODEL.md "The decode loop on a GPU"):
 *
 * - the frozen cache (S, H, capacity, hd): one row per sequence, the first `cached` slots all its beams share,
 *   written by `cache_flush` only;
 * - the window (B, H, window, hd): the latest tokens of each row (beam), written by every decode step
 *   (`gpt_decode_resident` writes the step's K/V into slot `length − cached`, bound in place where the backend can).
 *
 * So a step rewrites only the window, never the whole cache (onnxruntime copies every output it returns, and a
 * whole-cache output per step cost the first resident loop 16–20 % on the CPU), and the cache is rewritten once per
 * flush. A flush moves only the prefix all beams of a sequence share, so the beams read one frozen row: the step
 * multiplies their queries together with it (`groups`), so 3 beams read their history once, not three times (the
 * step's cost on a CPU is its memory traffic: weights and cache), the frozen cache holds a third of the bytes, and a
 * beam reorder moves window rows only. Rows leaving, prefilled rows joining and more slots are three small
 * graphs (`gpu-node/tools/resident_graphs.py`). Only row indices, lengths and capacities cross the host boundary.
 * Where the backend can view rows of a tensor (host memory), both parts keep spare rows, as the host loop's cache:
 * a joining row is written into the next spare rows and a leaver's slot takes the last row, one row each, where
 * a whole-cache concat or gather (a whole-cache output, copied again by onnxruntime-node) cost far more.
 */
export class ResidentCache {
  /** the frozen cache, `cacheSlots` rows of which the first `sequences` are running (spare rows where the backend can view rows) */
  private cache: Tensor[] = [];
  private cacheSlots = 0;
  sequences = 0;
  /** row b's frozen row (its sequence's) */
  private frozenRow: number[] = [];
  /** the windows, `tailSlots` rows (as `cache`) */
  private tails: Tensor[] = [];
  private tailSlots = 0;
  rows = 0;
  capacity = 0;
  window = 0;
  /** beam reorders not applied yet: row b's window is window row `pending[b]` (the next step applies them) */
  private pending: number[] | null = null;
  /** the window views the last `feeds()` handed the step (its present_* are written into them) */
  private fedTails: Tensor[] | null = null;
  private readonly names: { in: string[]; out: string[]; past: string[]; tail: string[]; present: string[] };

  constructor(
    private readonly backend: InferenceBackend,
    private readonly shape: CacheShape,
    /** the cache tensors' number format (the manifest's `precision.kv_cache`) */
    private readonly dtype: "float32" | "float16" = "float32",
  ) {
    const n = (p: string) => cacheNames(p, shape.layers);
    this.names = { in: n("in"), out: n("out"), past: n("past"), tail: n("tail"), present: n("present") };
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
    const cache = this.running(this.cache, this.cacheSlots, this.sequences);
    const tails = this.running(this.tails, this.tailSlots, this.rows);
    this.fedTails = tails;
    this.names.past.forEach((n, i) => {
      feeds[n] = at(cache, i);
    });
    this.names.tail.forEach((n, i) => {
      feeds[n] = at(tails, i);
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
    const next = pick(out, this.names.present, "decode");
    const inPlace = next.every((t, i) => t === this.fedTails?.[i]);
    this.fedTails = null;
    this.pending = null;
    if (inPlace) return; // written into the windows' rows where they lie
    this.tails = this.freeing(this.tails, next);
    this.tailSlots = this.rows;
  }

  /**
   * Rows leaving (whole sequences: all their beams): keep these rows (ascending). The windows are gathered in order;
   * the frozen rows of the sequences that stay are kept where the backend views rows, the last ones moving into the
   * holes, one row each (as the host loop's cache), elsewhere gathered in order.
   */
  async gather(keep: readonly number[]): Promise<void> {
    if (keep.length === 0) {
      this.clear();
      return;
    }
    const n = keep.length;
    const windows = keep.map((r) => this.pending?.[r] ?? r);
    this.pending = null;
    const stay = [...new Set(keep.map((b) => this.frozenRow[b] as number))].sort((x, y) => x - y);
    const moved = new Map<number, number>(stay.map((s, i) => [s, i]));
    if (stay.length < this.sequences && this.viewable(this.cache)) {
      const m = stay.length;
      const kept = new Set(stay);
      const movers = stay.filter((s) => s >= m);
      const holes = Array.from({ length: m }, (_, s) => s).filter((s) => !kept.has(s));
      for (const [j, hole] of holes.entries()) {
        const mover = movers[j] as number;
        const target = this.view(this.cache, hole, 1);
        await this.run("cache_gather", { rows: i64([mover], [1]) }, this.cache, target);
        moved.set(mover, hole);
      }
      for (const s of stay) if (s < m) moved.set(s, s);
    } else if (stay.length < this.sequences) {
      const cache = this.running(this.cache, this.cacheSlots, this.sequences);
      this.cache = this.freeing(this.cache, await this.run("cache_gather", { rows: i64(stay, [stay.length]) }, cache));
      this.cacheSlots = stay.length;
    }
    this.frozenRow = keep.map((b) => moved.get(this.frozenRow[b] as number) as number);
    this.sequences = stay.length;
    const tails = this.running(this.tails, this.tailSlots, this.rows);
    this.tails = this.freeing(this.tails, await this.run("cache_gather", { rows: i64(windows, [n]) }, tails));
    this.tailSlots = n;
    this.rows = n;
  }

  /**
   * Beams reordered within their sequences (row b continues row `rows[b]`): only the windows move, since the
   * beams' frozen rows are equal, and not now: the next decode step gathers them as it reads them.
   */
  permuteWindows(rows: readonly number[]): void {
    this.pending = rows.map((r) => this.pending?.[r] ?? r);
  }

  private async applyPending(): Promise<void> {
    if (!this.pending) return;
    const rows = this.pending;
    this.pending = null;
    const tails = this.running(this.tails, this.tailSlots, this.rows);
    this.tails = this.freeing(this.tails, await this.run("cache_gather", { rows: i64(rows, [rows.length]) }, tails));
    this.tailSlots = this.rows;
  }

  /** at least `capacity` frozen slots per row (zeros, masked until written) */
  async grow(capacity: number): Promise<void> {
    if (capacity <= this.capacity) return;
    await this.resizeFrozen(capacity);
  }

  /** fewer frozen slots (every row's frozen part must fit): after the longest rows have left */
  async shrink(capacity: number): Promise<void> {
    if (capacity >= this.capacity) return;
    await this.resizeFrozen(capacity); // pads < 0 crop
  }

  private async resizeFrozen(capacity: number): Promise<void> {
    if (this.sequences > 0) {
      const cache = this.running(this.cache, this.cacheSlots, this.sequences);
      this.cache = this.freeing(this.cache, await this.pad(cache, capacity));
      this.cacheSlots = this.sequences;
    }
    this.capacity = capacity;
  }

  /** `window` slots per row in the window */
  async growWindow(window: number): Promise<void> {
    if (window <= this.window) return;
    await this.applyPending();
    if (this.rows > 0) {
      const tails = this.running(this.tails, this.tailSlots, this.rows);
      this.tails = this.freeing(this.tails, await this.pad(tails, window));
      this.tailSlots = this.rows;
    }
    this.window = window;
  }

  /** a prefilled sequence (prefill's present_*, resident) joins: one frozen row, and `copies` rows (one per beam) */
  async join(present: Feeds, length: number, copies: number): Promise<void> {
    if (this.window === 0) this.window = WINDOW_STEP;
    await this.grow(Math.ceil(length / CAPACITY_STEP) * CAPACITY_STEP);
    let row = pick(present, this.names.present, "prefill");
    if (length < this.capacity) row = this.freeing(row, await this.pad(row, this.capacity));
    const { heads, headDim } = this.shape;
    // an empty window (zero slots, fed from the host: 0 bytes) padded to the window's size
    const dims = [1, heads, 0, headDim];
    const empty = this.names.in.map(
      (): Tensor =>
        this.dtype === "float16" ? { type: "float16", data: new Uint16Array(0), dims } : f32(new Float32Array(0), dims),
    );
    const tail = await this.pad(empty, this.window);
    await this.applyPending();
    [this.cache, this.cacheSlots] = await this.append(this.cache, this.cacheSlots, this.sequences, row, 1);
    [this.tails, this.tailSlots] = await this.append(this.tails, this.tailSlots, this.rows, tail, copies);
    this.freeing(row, []);
    this.freeing(tail, []);
    for (let c = 0; c < copies; c++) this.frozenRow.push(this.sequences);
    this.sequences += 1;
    this.rows += copies;
  }

  /**
   * `copies` of a one-row tensor set after a part's `count` running rows: written into spare rows where the backend
   * views rows (twice as many rows as running when they run out, as the host loop's cache), else joined by a concat.
   */
  private async append(
    parts: Tensor[],
    slots: number,
    count: number,
    row: Tensor[],
    copies: number,
  ): Promise<[Tensor[], number]> {
    const repeat = i64(new Array(copies).fill(0), [copies]);
    if (count === 0) return [this.freeing(parts, await this.run("cache_gather", { rows: repeat }, row)), copies];
    if (!this.viewable(parts)) {
      const rows = await this.run("cache_gather", { rows: repeat }, row);
      const joined = await this.concat(this.running(parts, slots, count), rows);
      this.freeing(rows, joined);
      return [this.freeing(parts, joined), count + copies];
    }
    let [big, room] = [parts, slots];
    if (count + copies > room) {
      // more rows, same layout: the running rows and spare rows (copies of row 0, never read)
      room = Math.max(count + copies, 2 * count, 4);
      const index = Array.from({ length: room }, (_, b) => (b < count ? b : 0));
      big = this.freeing(
        parts,
        await this.run("cache_gather", { rows: i64(index, [room]) }, this.running(parts, slots, count)),
      );
    }
    await this.run("cache_gather", { rows: repeat }, row, this.view(big, count, copies));
    return [big, room];
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
        throw new Error(
          `resident cache: beams of frozen row ${s} flush differently (${lengths[s]}+${moved[s]}, ${c}+${n})`,
        );
    });
    const need = Math.max(...lengths.map((c, s) => c + Math.max(moved[s] ?? 0, 1)));
    if (need > this.capacity) await this.grow(Math.ceil(need / CAPACITY_STEP) * CAPACITY_STEP);
    const S = this.sequences;
    const feeds: Feeds = {
      lengths: i64(lengths, [S]),
      shift: i64(moved, [S]),
      src: i64(src, [S]),
      tail_shift: i64(shift, [shift.length]),
    };
    const cache = this.running(this.cache, this.cacheSlots, S);
    this.names.in.forEach((n, i) => {
      feeds[n] = at(cache, i);
    });
    const tails = this.running(this.tails, this.tailSlots, this.rows);
    cacheNames("tail", this.shape.layers).forEach((n, i) => {
      feeds[n] = at(tails, i);
    });
    const shifted = cacheNames("tail_out", this.shape.layers);
    const into = Object.fromEntries(this.names.out.map((n, i) => [n, this.names.in[i] as string]));
    const out = await this.backend.run("cache_flush", feeds, [...this.names.out, ...shifted], into);
    const frozen = pick(out, this.names.out, "cache_flush");
    if (!frozen.every((t, i) => t === cache[i])) {
      this.cache = this.freeing(this.cache, frozen);
      this.cacheSlots = S;
    }
    this.tails = this.freeing(this.tails, pick(out, shifted, "cache_flush"));
    this.tailSlots = this.rows;
  }

  clear(): void {
    this.pending = null;
    this.cache = this.freeing(this.cache, []);
    this.tails = this.freeing(this.tails, []);
    this.cacheSlots = 0;
    this.tailSlots = 0;
    this.rows = 0;
    this.sequences = 0;
    this.frozenRow = [];
    this.capacity = 0;
    this.window = 0;
  }

  /** the `count` running rows of a part: the tensors themselves, or views of their first rows */
  private running(parts: Tensor[], slots: number, count: number): Tensor[] {
    return slots === count ? parts : this.view(parts, 0, count);
  }

  private viewable(parts: Tensor[]): boolean {
    const first = parts[0];
    return first !== undefined && this.backend.rows?.(first, 0, 0) !== undefined;
  }

  private view(parts: Tensor[], start: number, count: number): Tensor[] {
    return parts.map((t) => {
      const v = this.backend.rows?.(t, start, count);
      if (!v) throw new Error("resident cache: the backend cannot view rows of this tensor");
      return v;
    });
  }

  /** free the tensors of `old` that `next` does not hold; returns `next` */
  private freeing(old: readonly Tensor[], next: Tensor[]): Tensor[] {
    for (const t of old) if (!next.includes(t)) this.backend.release?.(t);
    return next;
  }

  private async concat(a: Tensor[], b: Tensor[]): Promise<Tensor[]> {
    const feeds: Feeds = {};
    cacheNames("a", this.shape.layers).forEach((n, i) => {
      feeds[n] = at(a, i);
    });
    cacheNames("b", this.shape.layers).forEach((n, i) => {
      feeds[n] = at(b, i);
    });
    return pick(await this.backend.run("cache_concat", feeds, this.names.out), this.names.out, "cache_concat");
  }

  private async pad(tensors: Tensor[], slots: number): Promise<Tensor[]> {
    return this.run("cache_pad", { capacity: i64([slots], [1]) }, tensors);
  }

  /** a cache graph over `tensors`; with `targets`, its outputs are written into them (rows of a larger tensor) */
  private async run(
    graph: "cache_gather" | "cache_pad",
    extra: Feeds,
    tensors: Tensor[],
    targets?: Tensor[],
  ): Promise<Tensor[]> {
    const feeds: Feeds = { ...extra };
    this.names.in.forEach((n, i) => {
      feeds[n] = at(tensors, i);
    });
    const into = targets ? Object.fromEntries(this.names.out.map((n, i) => [n, at(targets, i)])) : undefined;
    return pick(await this.backend.run(graph, feeds, this.names.out, into), this.names.out, graph);
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
  if (fill() > cache.window - WINDOW_STEP / 2) await cache.growWindow(cache.window + WINDOW_STEP);
}

function at(tensors: readonly Tensor[], i: number): Tensor {
  const t = tensors[i];
  if (!t) throw new Error(`resident cache misses tensor ${i}`);
  return t;
}

function pick(out: Feeds, names: readonly string[], graph: string): Tensor[] {
  return names.map((n) => {
    const t = out[n];
    if (!t) throw new Error(`${graph} output ${n} missing`);
    return t;
  });
}
