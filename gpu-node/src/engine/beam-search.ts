import { FILTERED, logSoftmax, type ProcessorParams, processRow } from "./logits-process.ts";

/**
 * IndexTTS2's sampler as Hugging Face `generate` runs it (transformers 5.x): with `num_beams` > 1 the beam sampling
 * of `_beam_search(do_sample=True)` — log-softmax per beam, the processors on the log-probabilities, beam scores
 * added, 2·n continuations drawn without replacement over all n·V, the best n that did not stop keep running, the
 * first n drawn that stopped compete for the n finished slots (length penalty on the generated length), and the
 * search ends when no running beam can beat the worst finished one; with `num_beams` = 1 the plain `_sample`
 * (processors on the raw logits, one draw).
 *
 * Draws: torch.multinomial draws without replacement by the exponential race (the k largest p/E, E ~ Exp(1));
 * here the same race runs in log space over the candidates (probability > CANDIDATE_FLOOR), one uniform per
 * candidate in ascending flat index, E = −log(1 − u). With the same uniforms `hf_beam_check.py` reproduces HF's
 * codes exactly; the node feeds each sequence its own seeded stream, so a request's codes never depend on its batch.
 *
 * The search keeps no tensors: each beam is a node of a persistent list (code, the latent that came with it, its
 * parent), so reordering beams is reassigning pointers; the engine reorders the KV-cache rows to match.
 */
export interface SearchParams extends ProcessorParams {
  numBeams: number;
  /** HF `length_penalty` (IndexTTS2: 0): finished scores are divided by generated_length ** lengthPenalty */
  lengthPenalty: number;
}

export interface SearchSetup {
  vocab: number;
  stopToken: number;
  /** most generated tokens (HF max_length − prompt length); the stop token counts */
  maxTokens: number;
  /** HF input_ids the repetition penalty sees (IndexTTS2: placeholder 1s and start_mel) */
  promptTokens: readonly number[];
  /** never drawn (random weights: the stop token, so generation runs to `maxTokens`) */
  banned?: number;
}

/** Probabilities at or below this are treated as zero: the draw's candidate set must not hinge on underflow. */
export const CANDIDATE_FLOOR = 1e-30;
/** HF's "impossible" score. */
const NEG = -1e9;

export interface BeamNode {
  readonly code: number;
  /** the hidden state of the position before this code (the latent that goes with it) */
  readonly latent: Float32Array | null;
  readonly parent: BeamNode | null;
  readonly length: number;
}

interface Beam {
  node: BeamNode | null;
  score: number;
  seen: Uint8Array;
}

interface Finished {
  node: BeamNode | null;
  score: number;
  finished: boolean;
}

export interface StepResult {
  /** for each running beam after the step, the beam (0..n-1) it continues */
  parents: number[];
  done: boolean;
}

export class SequenceSearch {
  readonly numBeams: number;
  private running: Beam[];
  private finished: Finished[];
  private improvable = true;
  private generated = 0;
  private best: BeamNode | null = null;
  private ended = false;

  constructor(
    private readonly params: SearchParams,
    private readonly setup: SearchSetup,
    private readonly uniform: () => number,
  ) {
    this.numBeams = Math.max(1, Math.floor(params.numBeams));
    const seen = new Uint8Array(setup.vocab);
    for (const t of setup.promptTokens) if (t >= 0 && t < setup.vocab) seen[t] = 1;
    // HF: the first beam starts at 0, the others at -1e9, so that the first step draws only from one beam
    this.running = Array.from({ length: this.numBeams }, (_, i) => ({
      node: null,
      score: i === 0 ? 0 : NEG,
      seen: i === 0 ? seen : seen.slice(),
    }));
    this.finished = Array.from({ length: this.numBeams }, () => ({ node: null, score: NEG, finished: false }));
  }

  get done(): boolean {
    return this.ended;
  }

  /** The code each running beam feeds next (undefined before the first step: the prompt's last token). */
  lastCodes(): (number | undefined)[] {
    return this.running.map((b) => b.node?.code);
  }

  /**
   * Leading codes every running beam shares (the depth of their common ancestor): every later beam descends from
   * one of them, so this prefix is final. With one beam, every code generated so far.
   */
  sharedLength(): number {
    let nodes = this.running.map((b) => b.node);
    for (;;) {
      const first = nodes[0] ?? null;
      if (nodes.every((n) => n === first)) return first?.length ?? 0;
      const deepest = Math.max(...nodes.map((n) => n?.length ?? 0));
      nodes = nodes.map((n) => (n && n.length === deepest ? n.parent : n));
    }
  }

  /** Tokens generated so far by every running beam (they are all equally long). */
  get length(): number {
    return this.generated;
  }

  /**
   * Advance every running beam by one token. `logits` holds beam i's row at `offsets[i]`; `latents[i]` is the
   * hidden state that came with the logits of beam i (becomes the latent of the code drawn from it).
   */
  step(logits: Float32Array, offsets: readonly number[], latents: readonly (Float32Array | null)[]): StepResult {
    if (this.ended) throw new Error("the search has ended");
    return this.numBeams === 1
      ? this.sampleStep(logits, offsets[0] ?? 0, latents[0] ?? null)
      : this.beamStep(logits, offsets, latents);
  }

  /** The best finished sequence: codes without the stop token, and one latent per code where steps carried them. */
  result(): { codes: number[]; latents: Float32Array[] } {
    const codes: number[] = [];
    const latents: Float32Array[] = [];
    for (let n = this.best; n; n = n.parent) {
      codes.push(n.code);
      if (n.latent) latents.push(n.latent);
    }
    codes.reverse();
    latents.reverse();
    if (codes[codes.length - 1] === this.setup.stopToken) {
      codes.pop();
      latents.pop();
    }
    return { codes, latents };
  }

  private sampleStep(logits: Float32Array, offset: number, latent: Float32Array | null): StepResult {
    const { vocab } = this.setup;
    const beam = this.running[0] as Beam;
    const scores = new Float64Array(vocab);
    for (let t = 0; t < vocab; t++) scores[t] = logits[offset + t] ?? 0;
    if (this.setup.banned !== undefined) scores[this.setup.banned] = FILTERED;
    processRow(scores, beam.seen, this.params, 1);
    const [flat] = this.draw(scores, 1);
    const code = flat ?? 0;
    beam.node = { code, latent, parent: beam.node, length: (beam.node?.length ?? 0) + 1 };
    beam.seen[code] = 1;
    this.generated += 1;
    if (code === this.setup.stopToken || this.generated >= this.setup.maxTokens) {
      this.best = beam.node;
      this.ended = true;
    }
    return { parents: [0], done: this.ended };
  }

  private beamStep(
    logits: Float32Array,
    offsets: readonly number[],
    latents: readonly (Float32Array | null)[],
  ): StepResult {
    const { vocab, stopToken, maxTokens } = this.setup;
    const n = this.numBeams;
    const acc = new Float64Array(n * vocab);
    this.running.forEach((beam, i) => {
      const row = logSoftmax(logits, offsets[i] ?? 0, vocab);
      if (this.setup.banned !== undefined) row[this.setup.banned] = FILTERED;
      processRow(row, beam.seen, this.params, 2);
      for (let t = 0; t < vocab; t++) acc[i * vocab + t] = (row[t] ?? FILTERED) + beam.score;
    });
    const keep = 2 * n; // HF beams_to_keep = max(2, 1 + number of eos tokens) · num_beams
    const drawn = this.draw(acc, keep);
    const cand = drawn.map((flat) => {
      const beam = Math.floor(flat / vocab);
      const code = flat % vocab;
      return {
        beam,
        code,
        score: acc[flat] ?? FILTERED,
        hits: code === stopToken || this.generated + 1 >= maxTokens,
        node: null as BeamNode | null,
      };
    });
    const nodeOf = (c: (typeof cand)[number]): BeamNode => {
      if (!c.node) {
        const parent = this.running[c.beam]?.node ?? null;
        c.node = { code: c.code, latent: latents[c.beam] ?? null, parent, length: (parent?.length ?? 0) + 1 };
      }
      return c.node;
    };

    // e. the best n continuations that did not stop keep running (stopped ones only as a last resort, at -1e9)
    const runningOrder = cand
      .map((c, i) => ({ i, score: c.score + (c.hits ? NEG : 0) }))
      .sort((a, b) => b.score - a.score || a.i - b.i)
      .slice(0, n);
    // f. the first n drawn that stopped compete with the finished ones
    const lengthNorm = (this.generated + 1) ** this.params.lengthPenalty;
    const merged: Finished[] = [...this.finished];
    cand.forEach((c, i) => {
      const justFinished = c.hits && i < n;
      let score = c.score / lengthNorm;
      if (!this.improvable) score += NEG;
      if (!justFinished) score += NEG;
      merged.push({ node: justFinished ? nodeOf(c) : null, score, finished: justFinished });
    });
    this.finished = merged
      .map((f, i) => ({ f, i }))
      .sort((a, b) => b.f.score - a.f.score || a.i - b.i)
      .slice(0, n)
      .map(({ f }) => f);

    const parents: number[] = [];
    this.running = runningOrder.map(({ i, score }) => {
      const c = cand[i] as (typeof cand)[number];
      parents.push(c.beam);
      const seen = (this.running[c.beam] as Beam).seen.slice();
      seen[c.code] = 1;
      return { node: nodeOf(c), score, seen };
    });
    this.generated += 1;

    // g. HF's early-stop heuristic (early_stopping=False) and the end of the search
    const bestRunning = (this.running[0]?.score ?? NEG) / this.generated ** this.params.lengthPenalty;
    const worstFinished = Math.min(...this.finished.map((f) => f.score));
    this.improvable &&= this.finished.some((f) => bestRunning > (f.finished ? worstFinished : NEG));
    const allHit = cand.every((c) => c.hits);
    if (!this.improvable || allHit) {
      this.ended = true;
      this.best = this.finished[0]?.node ?? null;
    }
    return { parents, done: this.ended };
  }

  /**
   * Draw `count` flat indices without replacement from softmax(scores): the exponential race over the candidates
   * (probability > CANDIDATE_FLOOR, one uniform each in ascending index), best keys first; if there are fewer
   * candidates than `count`, the lowest other indices fill up (HF would pick zero-probability entries there too).
   */
  private draw(scores: Float64Array, count: number): number[] {
    let max = FILTERED;
    for (const v of scores) if (v > max) max = v;
    let total = 0;
    for (const v of scores) if (v !== FILTERED) total += Math.exp(v - max);
    const lse = max + Math.log(total);
    const keys: { flat: number; key: number }[] = [];
    for (let f = 0; f < scores.length; f++) {
      const v = scores[f] ?? FILTERED;
      if (v === FILTERED || !(Math.exp(v - lse) > CANDIDATE_FLOOR)) continue;
      const e = -Math.log1p(-this.uniform());
      keys.push({ flat: f, key: v - lse - Math.log(e) });
    }
    keys.sort((a, b) => b.key - a.key || a.flat - b.flat);
    const picked = keys.slice(0, count).map((k) => k.flat);
    if (picked.length < count) {
      const taken = new Set(picked);
      for (let f = 0; f < scores.length && picked.length < count; f++) if (!taken.has(f)) picked.push(f);
    }
    return picked;
  }
}
