/** names of a cache's tensors in a graph's inputs or outputs, layer by layer: `${prefix}_key_0`, `${prefix}_value_0`, … */
export const cacheNames = (prefix: string, layers: number): string[] =>
  Array.from({ length: layers }, (_, i) => [`${prefix}_key_${i}`, `${prefix}_value_${i}`]).flat();
