import { z } from "zod";

/**
 * The schema of a model directory's `manifest.json` (see gpu-node/MODEL.md).
 * Written by gpu-node/tools/generate_model.py and gpu-node/export/; read once at start-up.
 */
export const EMOTIONS = ["happy", "angry", "sad", "afraid", "disgusted", "melancholic", "surprised", "calm"] as const;
export type EmotionLabel = (typeof EMOTIONS)[number];

const positiveInt = z.number().int().positive();

export const manifestSchema = z.object({
  format: z.literal("indextts2-onnx/1"),
  name: z.string(),
  /** tiny | small | full | official */
  size: z.string(),
  /** true when the graphs carry random weights: the audio is noise. */
  random_weights: z.boolean(),
  /**
   * Random weights never emit the stop token at a natural place, so a random-weight model declares how many
   * semantic tokens it produces per text token; generation then stops there (deterministic, realistic durations).
   * Absent (null) for real weights, which stop at `stop_mel`.
   */
  semantic_tokens_per_text_token: z.number().positive().nullable(),
  sample_rate: z.literal(22050),
  hop_length: z.literal(256),
  files: z.object({
    bpe: z.string(),
    gpt_conditioning: z.string(),
    gpt_prefill: z.string(),
    gpt_decode: z.string(),
    /** infer_v2.py's second, teacher-forced GPT pass over the generated codes: the s2mel latents */
    gpt_latent: z.string(),
    latent_projector: z.string(),
    length_regulator: z.string(),
    dit_step: z.string(),
    vocoder: z.string(),
    voices: z.string(),
    emotions: z.string(),
  }),
  /**
   * Number formats of the GPT graphs (gpu-node/tools/fp16_graphs.py): float16 weights and KV cache are for GPU
   * execution providers; a float16 cache is run by the resident decode loop only. Absent: float32.
   */
  precision: z.object({ gpt: z.enum(["float32", "float16"]), kv_cache: z.enum(["float32", "float16"]) }).optional(),
  gpt: z.object({
    model_dim: positiveInt,
    layers: positiveInt,
    heads: positiveInt,
    number_text_tokens: positiveInt,
    number_mel_codes: positiveInt,
    start_text_token: z.number().int().nonnegative(),
    stop_text_token: z.number().int().nonnegative(),
    start_mel_token: z.number().int().nonnegative(),
    stop_mel_token: z.number().int().nonnegative(),
    cond_tokens: positiveInt,
    max_text_tokens: positiveInt,
    max_mel_tokens: positiveInt,
  }),
  semantic: z.object({ hidden_size: positiveInt, codebook_size: positiveInt }),
  s2mel: z.object({
    n_mels: z.literal(80),
    content_dim: positiveInt,
    style_dim: positiveInt,
    /** mel frames per semantic code (22050 / 256 / 50 ≈ 1.72, hard-coded in IndexTTS2) */
    code_to_frame_ratio: z.number().positive(),
    cfm_steps: positiveInt.default(25),
    cfg_rate: z.number().nonnegative().default(0.7),
  }),
  sampling: z.object({
    top_k: positiveInt.default(30),
    top_p: z.number().gt(0).lte(1).default(0.8),
    temperature: z.number().positive().default(0.8),
    repetition_penalty: z.number().positive().default(10),
    /** IndexTTS2's generate: 3-beam sampling, no length penalty */
    num_beams: positiveInt.default(3),
    length_penalty: z.number().default(0),
  }),
  limits: z.object({
    /** longest accepted input text, in characters */
    max_text_chars: positiveInt,
    /** segments are cut at this many BPE tokens (IndexTTS2: 120) */
    max_text_tokens_per_segment: positiveInt,
    /** "official" (default): IndexTTS2's split_segments, quirks included; "lossless": see src/text/segment.ts */
    segmentation: z.enum(["official", "lossless"]).default("official"),
    max_segments: positiveInt,
  }),
  emotion: z.object({
    labels: z.tuple(EMOTIONS.map((e) => z.literal(e)) as [z.ZodLiteral<EmotionLabel>, ...z.ZodLiteral<EmotionLabel>[]]),
    emo_num: z.array(z.number().int().positive()).length(8),
  }),
  voices: z
    .array(
      z.object({
        id: z.number().int().nonnegative(),
        name: z.string(),
        description: z.string(),
        ref_frames: positiveInt,
      }),
    )
    .min(1),
  /** the exporter's architecture (only what the memory estimate reads: the DiT's heads, the vocoder's widths) */
  architecture: z
    .object({
      s2mel: z
        .object({ dit: z.object({ num_heads: positiveInt }).partial().optional() })
        .partial()
        .optional(),
      vocoder: z
        .object({
          initial_channels: positiveInt,
          upsample_rates: z.array(positiveInt).min(1),
          resblock_kernel_sizes: z.array(positiveInt).min(1),
        })
        .partial()
        .optional(),
    })
    .optional(),
});

export type Manifest = z.infer<typeof manifestSchema>;
