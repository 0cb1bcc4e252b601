/**
 * glibc malloc settings for the gpu-node process (set by `npm start` and the benchmarks; set them in a container's
 * environment too). glibc raises its mmap threshold after freeing a large block, so later activations and audio
 * buffers (up to 32 MiB each) come from the heap, where fragmentation keeps them resident after the request: pinning
 * the threshold at 1 MiB makes every large buffer an mmap that goes back to the OS when freed, and a trim threshold
 * returns the heap's free top. Two arenas bound the per-thread arenas onnxruntime's pools would otherwise create.
 */
export const NODE_MALLOC_ENV: Record<string, string> = {
  MALLOC_MMAP_THRESHOLD_: String(1024 * 1024),
  MALLOC_TRIM_THRESHOLD_: String(4 * 1024 * 1024),
  MALLOC_ARENA_MAX: "2",
};
