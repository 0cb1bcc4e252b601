/**
 * The KV cache of a running GPT batch, kept by the host: per layer one (B, H, capacity, hd) key and value buffer.
 * Row b's history fills slots 0..length_b-1; the remaining slots are zero and masked out. A decode step reads the
 * buffers as they are (onnxruntime-node takes typed arrays without copying), returns only the new token's key and
 * value, and the host writes them in place — no per-step concatenation or copy of the cache. The buffers are
 * rebuilt only when sequences join or leave, or when a row outgrows the capacity.
 */
export interface CacheShape {
  layers: number;
  heads: number;
  headDim: number;
}

/** One row to place in a new cache: which buffers hold it now and how many slots it fills. */
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

export interface PackedCache {
  keys: Float32Array[];
  values: Float32Array[];
  capacity: number;
}

/** Capacity grows in steps of this many slots: attention reads the whole capacity, so keep the slack small. */
export const CAPACITY_STEP = 32;

/** The capacity for rows of these lengths, with room for at least one more token each. */
export function capacityFor(lengths: readonly number[]): number {
  const longest = lengths.reduce((m, l) => Math.max(m, l), 0);
  return Math.ceil((longest + 1) / CAPACITY_STEP) * CAPACITY_STEP;
}

export function packCache(shape: CacheShape, rows: readonly CacheRow[], capacity: number): PackedCache {
  const { layers, heads, headDim } = shape;
  const batch = rows.length;
  const keys: Float32Array[] = [];
  const values: Float32Array[] = [];
  for (let l = 0; l < layers; l++) {
    const k = new Float32Array(batch * heads * capacity * headDim);
    const v = new Float32Array(batch * heads * capacity * headDim);
    rows.forEach((row, b) => {
      const srcK = row.keys[l];
      const srcV = row.values[l];
      if (!srcK || !srcV) throw new Error(`cache row misses layer ${l}`);
      if (row.length > capacity) throw new Error(`row of ${row.length} slots does not fit capacity ${capacity}`);
      for (let h = 0; h < heads; h++) {
        const src = (row.index * heads + h) * row.capacity * headDim;
        const dst = (b * heads + h) * capacity * headDim;
        const n = row.length * headDim;
        k.set(srcK.subarray(src, src + n), dst);
        v.set(srcV.subarray(src, src + n), dst);
      }
    });
    keys.push(k);
    values.push(v);
  }
  return { keys, values, capacity };
}

/** Write one decode step's (B, H, 1, hd) keys/values of layer buffers into slot `lengths[b]` of each row. */
export function appendStep(
  shape: CacheShape,
  cache: PackedCache,
  layer: number,
  newKeys: Float32Array,
  newValues: Float32Array,
  lengths: readonly number[],
): void {
  const { heads, headDim } = shape;
  const k = cache.keys[layer];
  const v = cache.values[layer];
  if (!k || !v) throw new Error(`cache misses layer ${layer}`);
  lengths.forEach((length, b) => {
    for (let h = 0; h < heads; h++) {
      const src = (b * heads + h) * headDim;
      const dst = ((b * heads + h) * cache.capacity + length) * headDim;
      k.set(newKeys.subarray(src, src + headDim), dst);
      v.set(newValues.subarray(src, src + headDim), dst);
    }
  });
}
