import type { SearchParams } from "./beam-search.ts";

/**
 * A request's sampling settings: IndexTTS2's `generate` arguments (num_beams 3, top_k 30, top_p 0.8,
 * temperature 0.8, repetition_penalty 10, length_penalty 0). The sampler itself is `beam-search.ts`.
 */
export type SamplingParams = SearchParams;

/** Most beams a request may ask for (each beam is a row of the GPT batch and a copy of its KV cache). */
export const MAX_BEAMS = 8;
