import { type Feeds, type InferenceBackend, i64, type Tensor } from "./backend.ts";
import type { CacheShape } from "./kv-cache.ts";

/** names of a cache's tensors in a graph's inputs or outputs, layer by layer: `${prefix}_key_0`, `${prefix}_value_0`, … */
export const cacheNames = (prefix: string, layers: number): string[] =>
  Array.from({ length: layers }, (_, i) => [`${prefix}_key_${i}`, `${prefix}_value_${i}`]).flat();

/**
 * The KV cache of the running GPT batch kept where the sessions put it (issue 13): resident tensors
 * (B, H, capacity, hd) per layer that the host never reads. `gpt_decode_resident` writes each step's K/V into slot
 * `lengths[b]` itself and returns the whole cache; the batch bookkeeping the host-side cache does in place (rows
 * leaving, beams reordered, prefilled rows joining, more slots) is done by three small graphs
 * (`gpu-node/tools/resident_graphs.py`). Only row indices and capacities cross the host boundary.
 */
export class ResidentCache {
  private tensors: Tensor[] = [];
  rows = 0;
  capacity = 0;
  private readonly names: { in: string[]; out: string[] };

  constructor(
    private readonly backend: InferenceBackend,
    private readonly shape: CacheShape,
  ) {
    this.names = { in: cacheNames("in", shape.layers), out: cacheNames("out", shape.layers) };
  }

  /** what a decode step feeds as past_* */
  feeds(): Feeds {
    return Object.fromEntries(cacheNames("past", this.shape.layers).map((n, i) => [n, this.at(i)]));
  }

  /** take a decode step's present_* as the new cache */
  update(out: Feeds): void {
    this.replace(
      cacheNames("present", this.shape.layers).map((n) => {
        const t = out[n];
        if (!t) throw new Error(`decode output ${n} missing`);
        return t;
      }),
    );
  }

  /** keep these rows, in this order (rows leaving, beams taking their parents' histories) */
  async gather(rows: readonly number[]): Promise<void> {
    if (rows.length === 0) return this.clear();
    this.replace(await this.run("cache_gather", { rows: i64(rows, [rows.length]) }, this.tensors));
    this.rows = rows.length;
  }

  /** at least `capacity` slots per row (zeros, masked until written) */
  async grow(capacity: number): Promise<void> {
    if (capacity <= this.capacity) return;
    if (this.rows > 0) this.replace(await this.pad(this.tensors, capacity));
    this.capacity = capacity;
  }

  /** a prefilled row (prefill's present_*, resident) joins as `copies` rows (one per beam) */
  async join(present: Feeds, length: number, copies: number): Promise<void> {
    if (length > this.capacity) await this.grow(length);
    let row = cacheNames("present", this.shape.layers).map((n) => {
      const t = present[n];
      if (!t) throw new Error(`prefill output ${n} missing`);
      return t;
    });
    if (length < this.capacity) row = this.freeing(row, await this.pad(row, this.capacity));
    if (copies > 1) {
      const rows = i64(new Array(copies).fill(0), [copies]);
      row = this.freeing(row, await this.run("cache_gather", { rows }, row));
    }
    if (this.rows === 0) this.replace(row);
    else {
      const feeds: Feeds = {};
      cacheNames("a", this.shape.layers).forEach((n, i) => {
        feeds[n] = this.at(i);
      });
      cacheNames("b", this.shape.layers).forEach((n, i) => {
        feeds[n] = row[i] as Tensor;
      });
      const out = await this.backend.run("cache_concat", feeds, this.names.out);
      this.freeing(row, []);
      this.replace(this.names.out.map((n) => out[n] as Tensor));
    }
    this.rows += copies;
  }

  clear(): void {
    this.replace([]);
    this.rows = 0;
    this.capacity = 0;
  }

  /** the cache is now `next`; the tensors it no longer holds are freed */
  private replace(next: Tensor[]): void {
    this.freeing(this.tensors, next);
    this.tensors = next;
  }

  /** free the tensors of `old` that `next` does not hold; returns `next` */
  private freeing(old: readonly Tensor[], next: Tensor[]): Tensor[] {
    for (const t of old) if (!next.includes(t)) this.backend.release?.(t);
    return next;
  }

  private async pad(tensors: Tensor[], capacity: number): Promise<Tensor[]> {
    return this.run("cache_pad", { capacity: i64([capacity], [1]) }, tensors);
  }

  private async run(graph: "cache_gather" | "cache_pad", extra: Feeds, tensors: Tensor[]): Promise<Tensor[]> {
    const feeds: Feeds = { ...extra };
    this.names.in.forEach((n, i) => {
      feeds[n] = tensors[i] as Tensor;
    });
    const out = await this.backend.run(graph, feeds, this.names.out);
    return this.names.out.map((n) => {
      const t = out[n];
      if (!t) throw new Error(`${graph} output ${n} missing`);
      return t;
    });
  }

  private at(i: number): Tensor {
    const t = this.tensors[i];
    if (!t) throw new Error(`resident cache misses tensor ${i}`);
    return t;
  }
}
