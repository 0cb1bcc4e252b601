import type { Feeds, Tensor } from "./backend.ts";

/** names of a cache's tensors in a graph's inputs or outputs, layer by layer: `${prefix}_key_0`, `${prefix}_value_0`, … */
export const cacheNames = (prefix: string, layers: number): string[] =>
  Array.from({ length: layers }, (_, i) => [`${prefix}_key_${i}`, `${prefix}_value_${i}`]).flat();

/** the i-th tensor of a cache part (per layer a key and a value) */
export function tensorAt(tensors: readonly Tensor[], i: number): Tensor {
  const t = tensors[i];
  if (!t) throw new Error(`KV cache misses tensor ${i}`);
  return t;
}

/** a graph's outputs by name, in order */
export function outputsOf(out: Feeds, names: readonly string[], graph: string): Tensor[] {
  return names.map((n) => {
    const t = out[n];
    if (!t) throw new Error(`${graph} output ${n} missing`);
    return t;
  });
}
