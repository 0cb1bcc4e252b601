import type { BlockCopy, HostMemory, InferenceBackend, Tensor } from "./backend.ts";
import type { CacheOps, CachePart, FlushPlan } from "./cache-ops.ts";
import { tensorAt } from "./cache-tensors.ts";
import type { CacheShape } from "./kv-cache.ts";

/**
 * A flush copies a few slots per row here, so the window can be short: each decode step reads and rewrites the
 * whole window (onnxruntime-node copies the bound output once more). `decode-step.ts` on `small`, 16 rows: with a
 * 16-slot window the resident step ran 0.98–1.04 of the host step, with 4 slots 1.00–1.08.
 */
export const HOST_WINDOW_STEP = 4;

/**
 * The resident cache's operations where its tensors live in host memory (the CPU provider): copies of what moves,
 * as the host loop's cache does. A graph call would rewrite whole tensors (a flush the frozen cache, a join the
 * padded row), and onnxruntime-node copies every output it returns once more, so on the CPU the graphs cost the
 * resident loop 5–10 % of its throughput against the host loop (gpu-node/BENCHMARKS.md). The copies are counted
 * as resident traffic (`cache_host`), as the graphs' would be: none of them crosses the host boundary of a device.
 */
export class HostCacheOps implements CacheOps {
  readonly windowStep = HOST_WINDOW_STEP;
  private readonly tensorsPerPart: number;

  constructor(
    private readonly memory: HostMemory,
    private readonly backend: InferenceBackend,
    private readonly shape: CacheShape,
    private readonly dtype: "float32" | "float16",
  ) {
    this.tensorsPerPart = 2 * shape.layers;
  }

  running(part: CachePart, count: number): Tensor[] {
    if (count === part.room) return part.tensors;
    return part.tensors.map((t) => {
      const view = this.backend.rows?.(t, 0, count);
      if (!view) throw new Error("host cache: the backend cannot view rows of a host tensor");
      return view;
    });
  }

  async append(
    part: CachePart,
    count: number,
    slots: number,
    source: readonly Tensor[] | null,
    sourceSlots: number,
    copies: number,
  ): Promise<CachePart> {
    let next = part;
    if (count + copies > part.room) {
      // more rows, same layout: the running rows and spare rows, as the host loop's cache
      const room = Math.max(count + copies, 2 * count, 4);
      next = { tensors: this.alloc(room, slots), room };
      this.copyRows(
        part,
        next,
        slots,
        Array.from({ length: count }, (_, b) => [b, b] as const),
      );
    }
    if (source) {
      const { heads, headDim } = this.shape;
      const length = Math.min(sourceSlots, slots) * headDim;
      const copiesOf: BlockCopy[] = [];
      next.tensors.forEach((to, i) => {
        const from = tensorAt(source, i);
        for (let c = 0; c < copies; c++)
          for (let h = 0; h < heads; h++)
            copiesOf.push({
              from,
              fromOffset: h * sourceSlots * headDim,
              to,
              toOffset: ((count + c) * heads + h) * slots * headDim,
              length,
            });
      });
      this.memory.copy(copiesOf);
    }
    // without a source the rows keep what they held (finite values, masked until written), as the host loop's rows
    return next;
  }

  async select(part: CachePart, _count: number, slots: number, rows: readonly number[]): Promise<CachePart> {
    const next = { tensors: this.alloc(rows.length, slots), room: rows.length };
    this.copyRows(
      part,
      next,
      slots,
      rows.map((from, to) => [from, to] as const),
    );
    return next;
  }

  async move(part: CachePart, slots: number, moves: readonly (readonly [number, number])[]): Promise<void> {
    this.copyRows(part, part, slots, moves);
  }

  async resize(part: CachePart, count: number, from: number, to: number): Promise<CachePart> {
    const { heads, headDim } = this.shape;
    const next = { tensors: this.alloc(part.room, to), room: part.room };
    const length = Math.min(from, to) * headDim;
    const copies: BlockCopy[] = [];
    part.tensors.forEach((src, i) => {
      const dst = tensorAt(next.tensors, i);
      for (let r = 0; r < count * heads; r++)
        copies.push({ from: src, fromOffset: r * from * headDim, to: dst, toOffset: r * to * headDim, length });
    });
    this.memory.copy(copies);
    return next;
  }

  async flush(
    frozen: CachePart,
    _sequences: number,
    capacity: number,
    tails: CachePart,
    _rows: number,
    window: number,
    plan: FlushPlan,
  ): Promise<{ frozen: CachePart; tails: CachePart }> {
    const { heads, headDim } = this.shape;
    const copies: BlockCopy[] = [];
    // first what each sequence freezes, from its source row's window (before the windows shift)
    frozen.tensors.forEach((to, i) => {
      const from = tensorAt(tails.tensors, i);
      plan.shift.forEach((n, s) => {
        const [row, length] = [plan.src[s] ?? 0, plan.lengths[s] ?? 0];
        for (let h = 0; h < heads && n > 0; h++)
          copies.push({
            from,
            fromOffset: (row * heads + h) * window * headDim,
            to,
            toOffset: ((s * heads + h) * capacity + length) * headDim,
            length: n * headDim,
          });
      });
    });
    // then every window shifted left by its row's shift
    for (const t of tails.tensors)
      plan.tailShift.forEach((n, b) => {
        for (let h = 0; h < heads && n > 0; h++) {
          const start = (b * heads + h) * window * headDim;
          copies.push({
            from: t,
            fromOffset: start + n * headDim,
            to: t,
            toOffset: start,
            length: (window - n) * headDim,
          });
        }
      });
    this.memory.copy(copies);
    return { frozen, tails };
  }

  private alloc(rows: number, slots: number): Tensor[] {
    const { heads, headDim } = this.shape;
    return Array.from({ length: this.tensorsPerPart }, () =>
      this.memory.alloc(this.dtype, [rows, heads, slots, headDim]),
    );
  }

  /** whole rows (H × slots × hd elements each) from `from`'s rows to `to`'s */
  private copyRows(from: CachePart, to: CachePart, slots: number, moves: readonly (readonly [number, number])[]) {
    const row = this.shape.heads * slots * this.shape.headDim;
    const copies: BlockCopy[] = [];
    from.tensors.forEach((src, i) => {
      const dst = tensorAt(to.tensors, i);
      for (const [a, b] of moves)
        copies.push({ from: src, fromOffset: a * row, to: dst, toOffset: b * row, length: row });
    });
    if (copies.length > 0) this.memory.copy(copies);
  }
}
