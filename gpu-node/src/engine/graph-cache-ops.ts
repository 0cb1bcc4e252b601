import { type Feeds, f32, type InferenceBackend, i64, type Tensor } from "./backend.ts";
import type { CacheOps, CachePart, FlushPlan } from "./cache-ops.ts";
import { cacheNames, outputsOf, tensorAt } from "./cache-tensors.ts";
import type { CacheShape } from "./kv-cache.ts";

/** Window slots are added in steps of this many where a flush is a graph call rewriting the frozen cache. */
export const WINDOW_STEP = 16;

/**
 * The resident cache's operations where its tensors live in device memory: small graphs
 * (`gpu-node/tools/resident_graphs.py`), so nothing but row indices, lengths and capacities crosses the host
 * boundary. Parts have no spare rows here (a row joining is a concat, a row leaving a gather).
 */
export class GraphCacheOps implements CacheOps {
  readonly windowStep = WINDOW_STEP;
  private readonly names: { in: string[]; out: string[] };

  constructor(
    private readonly backend: InferenceBackend,
    private readonly shape: CacheShape,
    private readonly dtype: "float32" | "float16",
  ) {
    this.names = { in: cacheNames("in", shape.layers), out: cacheNames("out", shape.layers) };
  }

  running(part: CachePart, count: number): Tensor[] {
    if (count !== part.room) throw new Error(`graph cache: ${count} running rows of ${part.room}`);
    return part.tensors;
  }

  async append(
    part: CachePart,
    count: number,
    slots: number,
    source: readonly Tensor[] | null,
    sourceSlots: number,
    copies: number,
  ): Promise<CachePart> {
    const padded = !source || sourceSlots !== slots;
    const row = padded ? await this.pad(source ?? this.empty(), slots) : source;
    const repeat = i64(new Array(copies).fill(0), [copies]);
    const rows = await this.run("cache_gather", { rows: repeat }, row);
    if (padded) this.free(row, rows);
    if (count === 0) return { tensors: rows, room: copies };
    const feeds: Feeds = {};
    cacheNames("a", this.shape.layers).forEach((n, i) => {
      feeds[n] = tensorAt(part.tensors, i);
    });
    cacheNames("b", this.shape.layers).forEach((n, i) => {
      feeds[n] = tensorAt(rows, i);
    });
    const out = await this.backend.run("cache_concat", feeds, this.names.out);
    const joined = outputsOf(out, this.names.out, "cache_concat");
    this.free(rows, joined);
    return { tensors: joined, room: count + copies };
  }

  async select(part: CachePart, _count: number, _slots: number, rows: readonly number[]): Promise<CachePart> {
    const tensors = await this.run("cache_gather", { rows: i64(rows, [rows.length]) }, part.tensors);
    return { tensors, room: rows.length };
  }

  async resize(part: CachePart, count: number, _from: number, to: number): Promise<CachePart> {
    return { tensors: await this.pad(part.tensors, to), room: count };
  }

  async flush(
    frozen: CachePart,
    sequences: number,
    _capacity: number,
    tails: CachePart,
    rows: number,
    _window: number,
    plan: FlushPlan,
  ): Promise<{ frozen: CachePart; tails: CachePart }> {
    const feeds: Feeds = {
      lengths: i64(plan.lengths, [sequences]),
      shift: i64(plan.shift, [sequences]),
      src: i64(plan.src, [sequences]),
      tail_shift: i64(plan.tailShift, [rows]),
    };
    this.names.in.forEach((n, i) => {
      feeds[n] = tensorAt(frozen.tensors, i);
    });
    cacheNames("tail", this.shape.layers).forEach((n, i) => {
      feeds[n] = tensorAt(tails.tensors, i);
    });
    const shifted = cacheNames("tail_out", this.shape.layers);
    const into = Object.fromEntries(this.names.out.map((n, i) => [n, this.names.in[i] as string]));
    const out = await this.backend.run("cache_flush", feeds, [...this.names.out, ...shifted], into);
    return {
      frozen: { tensors: outputsOf(out, this.names.out, "cache_flush"), room: sequences },
      tails: { tensors: outputsOf(out, shifted, "cache_flush"), room: rows },
    };
  }

  /** an empty row (zero slots, fed from the host: 0 bytes), padded to a window's size by the caller */
  private empty(): Tensor[] {
    const dims = [1, this.shape.heads, 0, this.shape.headDim];
    return this.names.in.map(
      (): Tensor =>
        this.dtype === "float16" ? { type: "float16", data: new Uint16Array(0), dims } : f32(new Float32Array(0), dims),
    );
  }

  private pad(tensors: readonly Tensor[], slots: number): Promise<Tensor[]> {
    return this.run("cache_pad", { capacity: i64([slots], [1]) }, tensors);
  }

  private async run(graph: "cache_gather" | "cache_pad", extra: Feeds, tensors: readonly Tensor[]): Promise<Tensor[]> {
    const feeds: Feeds = { ...extra };
    this.names.in.forEach((n, i) => {
      feeds[n] = tensorAt(tensors, i);
    });
    return outputsOf(await this.backend.run(graph, feeds, this.names.out), this.names.out, graph);
  }

  private free(old: readonly Tensor[], kept: readonly Tensor[]): void {
    for (const t of old) if (!kept.includes(t)) this.backend.release?.(t);
  }
}
