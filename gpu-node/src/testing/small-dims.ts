import type { Manifest } from "../model/manifest.ts";

/**
 * The `small` model's dimensions (gpu-node/tools/indextts2_arch/configs.py) on another manifest, for tests of what
 * depends on shapes only (the memory estimate): the 1.6 GB `small` model itself is generated, not committed.
 * Its tokenizer is the same as tiny's.
 */
export function withSmallDims(m: Manifest): Manifest {
  return {
    ...m,
    name: "indextts2-random-small (dimensions only)",
    gpt: { ...m.gpt, model_dim: 1536, layers: 4, heads: 24 },
    semantic: { ...m.semantic, hidden_size: 1024 },
    s2mel: { ...m.s2mel, content_dim: 256 },
    voices: m.voices.map((v, i) => ({ ...v, ref_frames: [86, 101, 115, 130][i] ?? 130 })),
    architecture: {
      s2mel: { dit: { num_heads: 2 } },
      vocoder: { initial_channels: 64, upsample_rates: [8, 8, 4], resblock_kernel_sizes: [3] },
    },
  };
}

/** Bytes of small's graphs on disk (gpt_decode, gpt_decode_resident and gpt_prefill are most of it). */
export const SMALL_GRAPH_BYTES = 1_665_000_000;
