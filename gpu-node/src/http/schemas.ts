import { z } from "zod";
import { MAX_BEAMS } from "../engine/sampling.ts";

/** Speed range accepted by /synthesize (the length regulator stretches or squeezes the mel): OpenAI's 0.25–4. */
export const SPEED_MIN = 0.25;
export const SPEED_MAX = 4.0;

/**
 * POST /synthesize: exactly the article's payload `{"text","emotion","speaker_id","speed"}` plus optional fields.
 * Types are checked here (→ 400 INVALID_REQUEST); meaning (known speaker, known emotion, ranges) is checked by
 * the handler so each failure gets its own stable code. Unknown fields are ignored.
 */
export const synthesizeBodySchema = z.object({
  text: z.string(),
  emotion: z.string().optional(),
  speaker_id: z.number().int().nonnegative().default(0),
  speed: z.number().default(1),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .optional(),
  emotion_vector: z.array(z.number().min(0).max(1.2)).length(8).optional(),
  emotion_alpha: z.number().min(0).max(1).default(1),
  max_tokens: z.number().int().positive().optional(),
  priority: z.enum(["interactive", "batch"]).optional(),
  /** beams for this request (default: the node's, IndexTTS2's 3); 1 is cheaper, more beams cost a batch row each */
  num_beams: z.number().int().min(1).max(MAX_BEAMS).optional(),
  deadline_ms: z.number().int().positive().max(600_000).optional(),
});

export type SynthesizeBody = z.infer<typeof synthesizeBodySchema>;
