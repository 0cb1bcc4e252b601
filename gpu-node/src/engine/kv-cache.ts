/**
 * The KV cache of a running GPT batch, kept by the host: per layer one key and one value buffer laid out
 * (rows, H, capacity, hd), with room for more rows than are running. Row b's history fills slots 0..length_b-1;
 * the other slots are masked out (whatever finite values they hold). A decode step feeds views of the first B rows
 * (onnxruntime-node takes typed-array views without copying), returns only the new token's key and value, and the
 * host writes them in place — no per-step concatenation or copy of the cache.
 *
 * Sequences joining and leaving cost one row each: a leaving row is overwritten by the last row, a joining row is
 * copied in after the last. The whole cache is copied only when a row outgrows the capacity (every
 * CAPACITY_STEP tokens at most), when the capacity can shrink by half, or when the row slots run out.
 */
export interface CacheShape {
  layers: number;
  heads: number;
  headDim: number;
}

/** A row to copy into the cache: which buffers hold it and where. */
export interface CacheRow {
  keys: readonly Float32Array[];
  values: readonly Float32Array[];
  /** batch index of the row inside its buffers */
  index: number;
  /** slots per row in its buffers */
  capacity: number;
  /** filled slots, from slot 0 */
  length: number;
}

/** Capacity grows in steps of this many slots: attention reads the whole capacity, so keep the slack small. */
export const CAPACITY_STEP = 32;

/** The capacity for rows of these lengths, with room for at least one more token each. */
export function capacityFor(lengths: readonly number[]): number {
  const longest = lengths.reduce((m, l) => Math.max(m, l), 0);
  return Math.ceil((longest + 1) / CAPACITY_STEP) * CAPACITY_STEP;
}

const MIN_ROW_SLOTS = 4;

export class BatchKvCache {
  private keyBuffers: Float32Array[] = [];
  private valueBuffers: Float32Array[] = [];
  private rowSlots = 0;
  /** slots per row */
  capacity = 0;
  /** rows in use (the decode batch) */
  rows = 0;

  constructor(private readonly shape: CacheShape) {}

  private get rowSize(): number {
    return this.shape.heads * this.capacity * this.shape.headDim;
  }

  /** (rows, H, capacity, hd) view of layer `l`'s keys, what a decode step feeds as past_key_l */
  keys(l: number): Float32Array {
    return this.buffer(this.keyBuffers, l).subarray(0, this.rows * this.rowSize);
  }

  values(l: number): Float32Array {
    return this.buffer(this.valueBuffers, l).subarray(0, this.rows * this.rowSize);
  }

  /** Make every row of `lengths` (the current rows, in order) fit `capacity`, copying their histories. */
  resize(capacity: number, lengths: readonly number[]): void {
    if (lengths.length !== this.rows) throw new Error(`resize with ${lengths.length} lengths for ${this.rows} rows`);
    const old = { keys: this.keyBuffers, values: this.valueBuffers, capacity: this.capacity };
    this.allocate(Math.max(this.rowSlots, MIN_ROW_SLOTS), capacity);
    lengths.forEach((length, b) => {
      this.copyRow({ keys: old.keys, values: old.values, index: b, capacity: old.capacity, length }, b);
    });
  }

  /** Copy `row` in as the new last row; the capacity must already fit it. Returns its batch index. */
  addRow(row: CacheRow): number {
    if (row.length > this.capacity)
      throw new Error(`row of ${row.length} slots does not fit capacity ${this.capacity}`);
    if (this.rows === this.rowSlots) {
      // more row slots, same layout: the used prefix moves over in one copy per buffer
      const used = this.rows * this.rowSize;
      const old = { keys: this.keyBuffers, values: this.valueBuffers };
      this.allocate(Math.max(MIN_ROW_SLOTS, 2 * this.rowSlots), this.capacity);
      for (let l = 0; l < this.shape.layers; l++) {
        this.buffer(this.keyBuffers, l).set(this.buffer(old.keys, l).subarray(0, used));
        this.buffer(this.valueBuffers, l).set(this.buffer(old.values, l).subarray(0, used));
      }
    }
    const b = this.rows;
    this.copyRow(row, b);
    this.rows += 1;
    return b;
  }

  /**
   * Remove row `b`: the last row moves into its place (whole row, stale slots included: they stay masked).
   * Returns the old index of the row that moved, or null when `b` was the last row.
   */
  removeRow(b: number): number | null {
    if (b < 0 || b >= this.rows) throw new Error(`no row ${b} in a batch of ${this.rows}`);
    const last = this.rows - 1;
    this.rows = last;
    if (b === last) return null;
    const size = this.rowSize;
    for (let l = 0; l < this.shape.layers; l++) {
      for (const buffers of [this.keyBuffers, this.valueBuffers]) {
        const buf = this.buffer(buffers, l);
        buf.copyWithin(b * size, last * size, (last + 1) * size);
      }
    }
    return last;
  }

  /**
   * Beam reordering: row `targets[j]` becomes a copy of row `sources[j]` (all as they are now), for rows whose
   * first `length` slots are their history. Only the filled slots move; a source that is itself overwritten is
   * copied aside first.
   */
  copyRows(targets: readonly number[], sources: readonly number[], length: number): void {
    const moves = targets.map((t, j) => ({ t, s: sources[j] ?? t })).filter((m) => m.t !== m.s);
    if (moves.length === 0) return;
    const overwritten = new Set(moves.map((m) => m.t));
    const { layers, heads, headDim } = this.shape;
    const n = length * headDim;
    const slot = (b: number, h: number) => (b * heads + h) * this.capacity * headDim;
    for (let l = 0; l < layers; l++) {
      for (const buffers of [this.keyBuffers, this.valueBuffers]) {
        const buf = this.buffer(buffers, l);
        const aside = new Map<number, Float32Array>();
        for (const { s } of moves) {
          if (!overwritten.has(s) || aside.has(s)) continue;
          const copy = new Float32Array(heads * n);
          for (let h = 0; h < heads; h++) copy.set(buf.subarray(slot(s, h), slot(s, h) + n), h * n);
          aside.set(s, copy);
        }
        for (const { t, s } of moves) {
          const saved = aside.get(s);
          for (let h = 0; h < heads; h++) {
            const src = saved ? saved.subarray(h * n, (h + 1) * n) : buf.subarray(slot(s, h), slot(s, h) + n);
            buf.set(src, slot(t, h));
          }
        }
      }
    }
  }

  /** Write one decode step's (B, H, 1, hd) keys/values of layer `l` into slot `lengths[b]` of each row. */
  appendStep(l: number, newKeys: Float32Array, newValues: Float32Array, lengths: readonly number[]): void {
    const { heads, headDim } = this.shape;
    const k = this.buffer(this.keyBuffers, l);
    const v = this.buffer(this.valueBuffers, l);
    lengths.forEach((length, b) => {
      if (length >= this.capacity) throw new Error(`row ${b} is full (${length} of ${this.capacity} slots)`);
      for (let h = 0; h < heads; h++) {
        const src = (b * heads + h) * headDim;
        const dst = ((b * heads + h) * this.capacity + length) * headDim;
        k.set(newKeys.subarray(src, src + headDim), dst);
        v.set(newValues.subarray(src, src + headDim), dst);
      }
    });
  }

  /** Drop every row and the buffers. */
  clear(): void {
    this.keyBuffers = [];
    this.valueBuffers = [];
    this.rowSlots = 0;
    this.capacity = 0;
    this.rows = 0;
  }

  private allocate(rowSlots: number, capacity: number): void {
    const size = rowSlots * this.shape.heads * capacity * this.shape.headDim;
    this.keyBuffers = Array.from({ length: this.shape.layers }, () => new Float32Array(size));
    this.valueBuffers = Array.from({ length: this.shape.layers }, () => new Float32Array(size));
    this.rowSlots = rowSlots;
    this.capacity = capacity;
  }

  private copyRow(row: CacheRow, b: number): void {
    const { layers, heads, headDim } = this.shape;
    if (row.length > this.capacity)
      throw new Error(`row of ${row.length} slots does not fit capacity ${this.capacity}`);
    const n = row.length * headDim;
    for (let l = 0; l < layers; l++) {
      const srcK = row.keys[l];
      const srcV = row.values[l];
      if (!srcK || !srcV) throw new Error(`cache row misses layer ${l}`);
      const k = this.buffer(this.keyBuffers, l);
      const v = this.buffer(this.valueBuffers, l);
      for (let h = 0; h < heads; h++) {
        const src = (row.index * heads + h) * row.capacity * headDim;
        const dst = (b * heads + h) * this.capacity * headDim;
        k.set(srcK.subarray(src, src + n), dst);
        v.set(srcV.subarray(src, src + n), dst);
      }
    }
  }

  private buffer(buffers: readonly Float32Array[], l: number): Float32Array {
    const buf = buffers[l];
    if (!buf) throw new Error(`cache misses layer ${l}`);
    return buf;
  }
}
