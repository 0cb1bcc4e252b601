/**
 * The KV cache of a running GPT batch: per layer one (B, H, P, hd) key and value tensor, rows left-padded to a
 * common length P. Sequences join and leave only at step boundaries, where `pack` rebuilds the tensors; between
 * boundaries a decode step's `present_*` outputs are used as the next `past_*` inputs without copying.
 */
export interface CacheShape {
  layers: number;
  heads: number;
  headDim: number;
}

/** One row of a cache: which tensors hold it, at which batch index, and how many positions are real. */
export interface CacheRow {
  keys: readonly Float32Array[];
  values: readonly Float32Array[];
  /** batch index of the row inside `keys[l]` */
  index: number;
  /** padded length P of the tensors the row lives in */
  paddedLength: number;
  /** real (unpadded) positions of the row; they are the last `length` of the P positions */
  length: number;
}

export interface PackedCache {
  keys: Float32Array[];
  values: Float32Array[];
  paddedLength: number;
}

export function packCache(shape: CacheShape, rows: readonly CacheRow[]): PackedCache {
  const { layers, heads, headDim } = shape;
  const paddedLength = rows.reduce((m, r) => Math.max(m, r.length), 0);
  const batch = rows.length;
  const keys: Float32Array[] = [];
  const values: Float32Array[] = [];
  for (let l = 0; l < layers; l++) {
    const k = new Float32Array(batch * heads * paddedLength * headDim);
    const v = new Float32Array(batch * heads * paddedLength * headDim);
    rows.forEach((row, b) => {
      const srcK = row.keys[l];
      const srcV = row.values[l];
      if (!srcK || !srcV) throw new Error(`cache row misses layer ${l}`);
      const srcPad = row.paddedLength - row.length;
      const dstPad = paddedLength - row.length;
      for (let h = 0; h < heads; h++) {
        const src = ((row.index * heads + h) * row.paddedLength + srcPad) * headDim;
        const dst = ((b * heads + h) * paddedLength + dstPad) * headDim;
        const n = row.length * headDim;
        k.set(srcK.subarray(src, src + n), dst);
        v.set(srcV.subarray(src, src + n), dst);
      }
    });
    keys.push(k);
    values.push(v);
  }
  return { keys, values, paddedLength };
}
