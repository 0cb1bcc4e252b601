import { z } from "zod";

const EMOTION_LABELS = ["happy", "angry", "sad", "afraid", "disgusted", "melancholic", "surprised", "calm"] as const;

export { EMOTION_LABELS };

/** POST /v1/tts — the native API. */
export const ttsBodySchema = z.object({
  text: z.string(),
  /** a voice id (`GET /v1/voices`) or its name */
  voice: z.union([z.number().int().nonnegative(), z.string().min(1)]).default(0),
  emotion: z.string().optional(),
  emotion_vector: z.array(z.number().min(0).max(1.2)).length(8).optional(),
  emotion_alpha: z.number().min(0).max(1).optional(),
  speed: z.number().min(0.25).max(4).default(1),
  /** any of audio/formats.ts (checked by the route: 400 UNSUPPORTED_FORMAT); the native default stays WAV */
  response_format: z.string().default("wav"),
  /** as on /v1/audio/speech: "audio" or "sse" streams the answer as it is made */
  stream_format: z.enum(["audio", "sse"]).optional(),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .optional(),
});

/** POST /v1/audio/speech — OpenAI-compatible. */
export const openAiSpeechSchema = z.object({
  model: z.string().min(1),
  input: z.string(),
  voice: z.string().min(1),
  speed: z.number().min(0.25).max(4).default(1),
  /** OpenAI's default is MP3 */
  response_format: z.string().default("mp3"),
  /**
   * "audio": the body is the audio, sent chunked as it is made; "sse": server-sent events carrying it in base64.
   * Absent: one whole answer with the metering headers.
   */
  stream_format: z.enum(["audio", "sse"]).optional(),
  /** free text; an emotion word in it ("speak in a happy tone") selects that emotion */
  instructions: z.string().max(4096).optional(),
});

/** POST /v1/keys: a customer's own new key. */
export const keyBodySchema = z.object({
  name: z.string().trim().min(1).max(100),
  /** epoch milliseconds; absent or null: the key never expires */
  expires_at: z.number().int().positive().nullable().optional(),
});

export const customerBodySchema = z.object({
  name: z.string().min(1).max(200),
  email: z.string().email(),
  plan_id: z.string().min(1),
  dedicated_pool: z.string().min(1).max(64).nullable().optional(),
});

export const planBodySchema = z.object({
  kind: z.enum(["basic", "batch", "enterprise"]),
  name: z.string().min(1),
  currency: z.string().length(3),
  time_zone: z.string().min(1),
  requests_per_second: z.number().positive(),
  burst: z.number().int().positive(),
  max_in_flight: z.number().int().positive(),
});

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/);
/** a window may end at midnight: "24:00" */
const hhmmEnd = z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/);
const microInt = z.number().int().nonnegative();

export const priceVersionBodySchema = z.object({
  /** epoch ms; omitted → now. Never in the past: old usage keeps its price. */
  effective_from: z.number().int().positive().optional(),
  unit_price_micros_per_1k_tokens: microInt,
  peak_windows: z
    .array(z.object({ days: z.array(z.number().int().min(0).max(6)).min(1), start: hhmm, end: hhmmEnd }))
    .default([]),
  peak_multiplier_bp: microInt.default(10_000),
  batch_discount_bp: microInt.max(10_000).default(0),
  monthly_fee_micros: microInt.default(0),
  included_tokens: microInt.default(0),
  overage_price_micros_per_1k_tokens: microInt.nullable().optional(),
});

export const nodeBodySchema = z.object({
  url: z.string().url(),
  pool: z.string().min(1).max(64).default("shared"),
  weight: z.number().int().positive().default(1),
});

/** GET /v1/usage: epoch milliseconds, `[from, to)`; defaults to the last 31 days. */
export const customerUsageQuerySchema = z.object({
  from: z.coerce.number().int().nonnegative().optional(),
  to: z.coerce.number().int().positive().optional(),
});

/** GET /admin/usage: epoch milliseconds, `[from, to)`; one customer, or every customer (paged by id). */
export const adminUsageQuerySchema = z.object({
  from: z.coerce.number().int().nonnegative().default(0),
  to: z.coerce.number().int().positive().optional(),
  customer_id: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  after: z.string().min(1).optional(),
});

/** POST /admin/customers/{id}/suspend: optional. */
export const suspendBodySchema = z.object({
  reason: z.string().min(1).max(500).default("suspended by an administrator"),
});
