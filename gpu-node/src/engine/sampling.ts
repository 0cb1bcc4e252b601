import type { Rng } from "./rng.ts";

export interface SamplingParams {
  topK: number;
  topP: number;
  temperature: number;
  repetitionPenalty: number;
}

/**
 * Sample one code from a row of logits the way Hugging Face `generate(do_sample=True)` does for IndexTTS2:
 * repetition penalty over the tokens seen so far, then temperature, top-k, top-p, softmax, multinomial draw.
 * `banned` tokens (e.g. the stop token of a random-weight model) are never drawn.
 */
export function sampleToken(
  logits: Float32Array,
  offset: number,
  vocab: number,
  seen: ReadonlySet<number>,
  params: SamplingParams,
  rng: Rng,
  banned?: number,
): number {
  const k = Math.max(1, Math.min(params.topK, vocab));
  // Keep the k best (value, id) pairs in a small sorted buffer: k is ~30, vocab ~8k.
  const topIds = new Int32Array(k).fill(-1);
  const topVals = new Float64Array(k).fill(Number.NEGATIVE_INFINITY);
  for (let id = 0; id < vocab; id++) {
    if (id === banned) continue;
    let v = logits[offset + id] ?? Number.NEGATIVE_INFINITY;
    if (seen.has(id)) v = v < 0 ? v * params.repetitionPenalty : v / params.repetitionPenalty;
    v /= params.temperature;
    const last = k - 1;
    if (v <= (topVals[last] ?? Number.NEGATIVE_INFINITY)) continue;
    let pos = last;
    while (pos > 0 && v > (topVals[pos - 1] ?? Number.NEGATIVE_INFINITY)) {
      topVals[pos] = topVals[pos - 1] ?? Number.NEGATIVE_INFINITY;
      topIds[pos] = topIds[pos - 1] ?? -1;
      pos--;
    }
    topVals[pos] = v;
    topIds[pos] = id;
  }
  const max = topVals[0] ?? 0;
  const probs = new Float64Array(k);
  let total = 0;
  for (let i = 0; i < k; i++) {
    const p = (topIds[i] ?? -1) < 0 ? 0 : Math.exp((topVals[i] ?? 0) - max);
    probs[i] = p;
    total += p;
  }
  // top-p: the smallest prefix of the sorted distribution whose mass reaches top_p (at least one token).
  let keep = 0;
  let cumulative = 0;
  while (keep < k) {
    cumulative += (probs[keep] ?? 0) / total;
    keep++;
    if (cumulative >= params.topP) break;
  }
  let mass = 0;
  for (let i = 0; i < keep; i++) mass += probs[i] ?? 0;
  let u = rng.nextFloat() * mass;
  for (let i = 0; i < keep; i++) {
    u -= probs[i] ?? 0;
    if (u < 0) return topIds[i] ?? 0;
  }
  return topIds[keep - 1] ?? 0;
}
