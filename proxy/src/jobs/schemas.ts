/** The jobs API's request bodies and queries (zod). Meaning (known voice, quotas) is checked by the route. */
import { z } from "zod";

const voice = z.union([z.number().int().nonnegative(), z.string().min(1)]);
const seed = z
  .number()
  .int()
  .min(0)
  .max(2 ** 32 - 1);

/** Settings of one synthesis; on the job they are the defaults of its items. */
const settings = {
  /** a voice id (`GET /v1/voices`) or its name */
  voice: voice.optional(),
  emotion: z.string().optional(),
  emotion_vector: z.array(z.number().min(0).max(1.2)).length(8).optional(),
  emotion_alpha: z.number().min(0).max(1).optional(),
  speed: z.number().min(0.5).max(2).optional(),
};

export const jobItemSchema = z.object({ text: z.string(), ...settings, seed: seed.optional() });

export const jobBodySchema = z
  .object({
    /** the items, in order; or `text` */
    items: z.array(jobItemSchema).min(1).optional(),
    /** one long text, split at sentence ends into segments of at most `segment_max_chars` */
    text: z.string().optional(),
    segment_max_chars: z.number().int().min(20).optional(),
    ...settings,
    /** items wait outside the plan's peak windows */
    prefer_off_peak: z.boolean().default(false),
    /** POSTed (HMAC-signed) when the job finishes */
    callback_url: z.string().optional(),
    /** the caller's labels, echoed back */
    metadata: z
      .record(z.string().min(1).max(64), z.string().max(512))
      .refine((m) => Object.keys(m).length <= 16, "at most 16 metadata keys")
      .optional(),
  })
  .refine((b) => (b.items === undefined) !== (b.text === undefined), {
    message: "give either `items` or `text`",
    path: ["items"],
  });

export type JobBody = z.infer<typeof jobBodySchema>;
export type JobItemInput = z.infer<typeof jobItemSchema>;

export const jobQuerySchema = z.object({
  /** items from this position */
  from: z.coerce.number().int().nonnegative().default(0),
  /** items per page (0: the job without its items) */
  limit: z.coerce.number().int().min(0).max(10_000).default(1_000),
});

export const jobListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** the last id of the previous page */
  before: z.string().min(1).optional(),
});

export const jobAudioQuerySchema = z.object({
  /** leave out items that are not done (failed, cancelled) instead of refusing the download */
  skip_missing: z.enum(["true", "false"]).default("false"),
  /** mp3, opus, aac, flac, wav (default) or pcm: the stored audio re-encoded, the bill unchanged */
  format: z.string().optional(),
});
