import { describe, expect, it } from "vitest";
import { type SearchParams, type SearchSetup, SequenceSearch } from "./beam-search.ts";
import { processRow } from "./logits-process.ts";
import { Rng } from "./rng.ts";

const params = (p: Partial<SearchParams> = {}): SearchParams => ({
  topK: 30,
  topP: 0.8,
  temperature: 0.8,
  repetitionPenalty: 10,
  numBeams: 1,
  lengthPenalty: 0,
  ...p,
});

/** One-step draws of a single beam from fixed logits. */
const draw = (logits: number[], p: SearchParams, seen: number[] = [], banned?: number, n = 2000, seed = 1) => {
  const rng = new Rng(seed);
  const counts = new Map<number, number>();
  const row = Float32Array.from(logits);
  for (let i = 0; i < n; i++) {
    const setup: SearchSetup = { vocab: row.length, stopToken: -1, maxTokens: 1, promptTokens: seen };
    const search = new SequenceSearch(p, banned === undefined ? setup : { ...setup, banned }, () => rng.nextFloat());
    search.step(row, [0], [null]);
    const t = search.result().codes[0] ?? -1;
    counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  return counts;
};

/**
 * Run a whole search against a deterministic toy "model": the logits of a sequence depend on its last code and
 * its length, so beams that differ get different rows.
 */
function run(p: SearchParams, opts: { vocab?: number; stop?: number; max?: number; seed?: number; banned?: number }) {
  const vocab = opts.vocab ?? 12;
  const stop = opts.stop ?? vocab - 1;
  const rng = new Rng(opts.seed ?? 1);
  const setup: SearchSetup = { vocab, stopToken: stop, maxTokens: opts.max ?? 20, promptTokens: [0] };
  const search = new SequenceSearch(p, opts.banned === undefined ? setup : { ...setup, banned: opts.banned }, () =>
    rng.nextFloat(),
  );
  const model = (last: number, len: number) =>
    Float32Array.from(
      { length: vocab },
      (_, t) => Math.sin(1.7 * t + 0.9 * last + 0.31 * len) * 2 + (t === stop ? len / 8 - 1 : 0),
    );
  let steps = 0;
  while (!search.done) {
    const lasts = search.lastCodes();
    const rows = lasts.map((c) => model(c ?? 0, search.length));
    const logits = new Float32Array(rows.length * vocab);
    for (const [i, r] of rows.entries()) logits.set(r, i * vocab);
    const latents = rows.map((_, i) => Float32Array.of(steps, i));
    search.step(
      logits,
      rows.map((_, i) => i * vocab),
      latents,
    );
    steps++;
  }
  return { ...search.result(), steps };
}

describe("logits processors (HF order and boundaries)", () => {
  it("repetition penalty divides positive and multiplies negative scores of seen tokens, once each", () => {
    const row = Float64Array.of(2, -0.5, 1);
    processRow(row, Uint8Array.of(1, 1, 0), params({ temperature: 1, topK: 0, topP: 1 }), 1);
    expect([...row]).toEqual([0.2, -5, 1]);
  });

  it("top-k keeps ties at the k-th value and at least min_tokens_to_keep", () => {
    const row = Float64Array.of(3, 1, 2, 2, 0);
    processRow(row, new Uint8Array(5), params({ temperature: 1, topK: 2, topP: 1, repetitionPenalty: 1 }), 1);
    expect([...row].map((v) => Number.isFinite(v))).toEqual([true, false, true, true, false]);
    const one = Float64Array.of(3, 1, 2);
    processRow(one, new Uint8Array(3), params({ temperature: 1, topK: 1, topP: 1, repetitionPenalty: 1 }), 2);
    expect([...one].filter(Number.isFinite).length).toBe(2);
  });

  it("top-p removes the ascending tail whose mass is at most 1 - p, keeping min_tokens_to_keep", () => {
    // probabilities 0.5, 0.35, 0.15: with p = 0.8 the tail 0.15 goes (≤ 0.2), 0.35 stays (0.5 > 0.2)
    const row = Float64Array.of(Math.log(0.5), Math.log(0.35), Math.log(0.15));
    processRow(row, new Uint8Array(3), params({ temperature: 1, topK: 0, topP: 0.8, repetitionPenalty: 1 }), 1);
    expect([...row].map(Number.isFinite)).toEqual([true, true, false]);
    const peaked = Float64Array.of(10, 0, 0);
    processRow(peaked, new Uint8Array(3), params({ temperature: 1, topK: 0, topP: 0.5, repetitionPenalty: 1 }), 2);
    expect([...peaked].filter(Number.isFinite).length).toBe(2);
  });
});

describe("SequenceSearch, one beam (HF _sample)", () => {
  it("top_k = 1 is greedy and a banned token is never drawn", () => {
    expect([...draw([0.1, 3, 2.9, -1], params({ topK: 1 })).keys()]).toEqual([1]);
    expect(draw([10, 0, 0], params({ topK: 1 }), [], 0).has(0)).toBe(false);
  });

  it("repetition penalty applies to the prompt tokens", () => {
    // token 0 (logit 2) is in the prompt: 2 / 10 = 0.2 < 1.5, so greedy picks token 1
    expect([...draw([2, 1.5, 0], params({ topK: 1 }), [0]).keys()]).toEqual([1]);
  });

  it("draws in proportion to the renormalised probabilities (the exponential race is multinomial)", () => {
    const counts = draw(
      [Math.log(3), 0, Math.log(2)],
      params({ topK: 3, topP: 1, temperature: 1 }),
      [],
      undefined,
      20_000,
    );
    expect((counts.get(0) ?? 0) / 20_000).toBeCloseTo(0.5, 1);
    expect((counts.get(2) ?? 0) / 20_000).toBeCloseTo(1 / 3, 1);
  });

  it("stops at the stop token (dropped from the codes) or at maxTokens", () => {
    const r = run(params(), { max: 15 });
    expect(r.codes.length).toBeLessThanOrEqual(15);
    expect(r.codes).not.toContain(11);
    expect(r.latents.length).toBe(r.codes.length);
  });
});

describe("SequenceSearch, beams (HF _beam_search with do_sample)", () => {
  it("is reproducible for a seed, differs across seeds, and gives one latent per code", () => {
    const a = run(params({ numBeams: 3 }), { seed: 7 });
    expect(run(params({ numBeams: 3 }), { seed: 7 })).toEqual(a);
    const others = [8, 9, 10].map((seed) => run(params({ numBeams: 3 }), { seed }).codes);
    expect(others.some((c) => JSON.stringify(c) !== JSON.stringify(a.codes))).toBe(true);
    expect(a.latents.length).toBe(a.codes.length);
    // the latent of code k is the hidden state the beam's step k−1 produced (step 0: the prompt's)
    expect(a.latents.map((l) => l[0])).toEqual(a.latents.map((_, k) => k));
  });

  it("runs to exactly maxTokens when the stop token is banned", () => {
    for (const seed of [1, 2, 3]) {
      const r = run(params({ numBeams: 3 }), { seed, max: 9, banned: 11 });
      expect(r.codes.length).toBe(9);
      expect(r.steps).toBe(9);
    }
  });

  it("ends when a finished beam can no longer be beaten, never past maxTokens", () => {
    const r = run(params({ numBeams: 3 }), { seed: 3, max: 40 });
    expect(r.codes.length).toBeLessThan(40);
    expect(r.steps).toBeGreaterThanOrEqual(r.codes.length);
  });

  it("a beam's history is its own: the repetition penalty follows the beam's sequence", () => {
    // with top_k 1 (2 kept in beam search) and a huge penalty no beam repeats a code within its own sequence
    const r = run(params({ numBeams: 2, topK: 1, topP: 1, temperature: 1, repetitionPenalty: 1e6 }), {
      vocab: 30,
      stop: 29,
      max: 12,
      banned: 29,
    });
    expect(new Set(r.codes).size).toBe(r.codes.length);
  });
});

describe("the prefix every running beam shares (the resident loop freezes only that)", () => {
  it("is the longest common prefix of the beams' codes, never shrinks, and is everything with one beam", () => {
    for (const numBeams of [1, 3]) {
      const vocab = 12;
      const rng = new Rng(7);
      const search = new SequenceSearch(
        params({ numBeams }),
        { vocab, stopToken: -1, maxTokens: 40, promptTokens: [0] },
        () => rng.nextFloat(),
      );
      let seqs: number[][] = Array.from({ length: numBeams }, () => []);
      let previous = 0;
      let grew = false;
      while (!search.done) {
        const rows = search
          .lastCodes()
          .map((c, i) =>
            Float32Array.from({ length: vocab }, (_, t) =>
              Math.sin(1.3 * t + 0.7 * (c ?? 0) + 0.2 * i + search.length),
            ),
          );
        const logits = new Float32Array(rows.length * vocab);
        for (const [i, r] of rows.entries()) logits.set(r, i * vocab);
        const { parents, done } = search.step(
          logits,
          rows.map((_, i) => i * vocab),
          rows.map(() => null),
        );
        if (done) break;
        const codes = search.lastCodes();
        seqs = parents.map((p, j) => [...(seqs[p] ?? []), codes[j] ?? -1]);
        const first = seqs[0] ?? [];
        let common = 0;
        while (common < first.length && seqs.every((s) => s[common] === first[common])) common++;
        const shared = search.sharedLength();
        expect(shared).toBe(common);
        expect(shared).toBeGreaterThanOrEqual(previous);
        if (numBeams === 1) expect(shared).toBe(search.length);
        grew ||= shared > 0 && shared < search.length;
        previous = shared;
      }
      if (numBeams === 3) expect(grew).toBe(true); // the beams did diverge and re-join on the way
    }
  });
});
