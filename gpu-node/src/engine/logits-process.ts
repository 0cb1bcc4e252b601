/**
 * Hugging Face's logits processors as IndexTTS2's `generate` chains them (transformers 5.x `_get_logits_processor`):
 * repetition penalty, then temperature, top-k and top-p, each with `min_tokens_to_keep` (2 for beam search, 1 for
 * plain sampling). Written here because the node samples on the host from the graph's logits; the order and the
 * boundary rules (ties at the k-th value kept, top-p removes the tail whose mass is ≤ 1 − p) follow HF exactly, and
 * `gpu-node/bench/hf_beam_check.py` checks the whole sampler against HF.
 */
export interface ProcessorParams {
  topK: number;
  topP: number;
  temperature: number;
  repetitionPenalty: number;
}

/** Filtered-out entries. */
export const FILTERED = Number.NEGATIVE_INFINITY;

/**
 * Process one row in place: `scores` holds logits (plain sampling) or log-probabilities (beam search); `seen[t]` is
 * 1 for every token of the row's sequence so far (prompt included, as HF's `input_ids`).
 */
export function processRow(
  scores: Float64Array,
  seen: Uint8Array,
  params: ProcessorParams,
  minTokensToKeep: number,
): void {
  const vocab = scores.length;
  const penalty = params.repetitionPenalty;
  if (penalty !== 1) {
    for (let t = 0; t < vocab; t++) {
      if (seen[t] !== 1) continue;
      const v = scores[t] ?? 0;
      scores[t] = v < 0 ? v * penalty : v / penalty;
    }
  }
  if (params.temperature !== 1) for (let t = 0; t < vocab; t++) scores[t] = (scores[t] ?? 0) / params.temperature;
  const k = Math.min(Math.max(params.topK, minTokensToKeep), vocab);
  if (params.topK > 0 && k < vocab) {
    const kth = kthLargest(scores, k);
    for (let t = 0; t < vocab; t++) if ((scores[t] ?? FILTERED) < kth) scores[t] = FILTERED;
  }
  if (params.topP < 1) topP(scores, params.topP, minTokensToKeep);
}

/** The k-th largest value (1-based), keeping a small sorted buffer: k is ~30, the vocabulary ~8k. */
function kthLargest(scores: Float64Array, k: number): number {
  const top = new Float64Array(k).fill(FILTERED);
  for (const v of scores) {
    if (!(v > (top[k - 1] ?? FILTERED))) continue;
    let pos = k - 1;
    while (pos > 0 && v > (top[pos - 1] ?? FILTERED)) {
      top[pos] = top[pos - 1] ?? FILTERED;
      pos--;
    }
    top[pos] = v;
  }
  return top[k - 1] ?? FILTERED;
}

/** HF TopP: sort ascending, remove the entries whose cumulative softmax is ≤ 1 − p, keep the last `minKeep`. */
function topP(scores: Float64Array, p: number, minKeep: number): void {
  const live: number[] = [];
  let max = FILTERED;
  for (let t = 0; t < scores.length; t++) {
    const v = scores[t] ?? FILTERED;
    if (v === FILTERED) continue;
    live.push(t);
    if (v > max) max = v;
  }
  // ascending by value; equal values keep index order (torch.sort is not stable either way; ties are measure zero)
  live.sort((a, b) => (scores[a] ?? 0) - (scores[b] ?? 0) || a - b);
  let total = 0;
  for (const t of live) total += Math.exp((scores[t] ?? 0) - max);
  let cumulative = 0;
  const removable = live.length - minKeep;
  for (let i = 0; i < removable; i++) {
    const t = live[i] ?? 0;
    cumulative += Math.exp((scores[t] ?? 0) - max) / total;
    if (cumulative > 1 - p) break;
    scores[t] = FILTERED;
  }
}

/** log-softmax of `logits[offset … offset + vocab)` into a fresh float64 row. */
export function logSoftmax(logits: Float32Array, offset: number, vocab: number): Float64Array {
  const out = new Float64Array(vocab);
  let max = FILTERED;
  for (let t = 0; t < vocab; t++) max = Math.max(max, logits[offset + t] ?? FILTERED);
  let total = 0;
  for (let t = 0; t < vocab; t++) total += Math.exp((logits[offset + t] ?? 0) - max);
  const lse = max + Math.log(total);
  for (let t = 0; t < vocab; t++) out[t] = (logits[offset + t] ?? 0) - lse;
  return out;
}
