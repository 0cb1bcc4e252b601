import { describe, expect, it } from "vitest";
import { Rng } from "./rng.ts";
import { type SamplingParams, sampleToken } from "./sampling.ts";

const params = (p: Partial<SamplingParams> = {}): SamplingParams => ({
  topK: 30,
  topP: 0.8,
  temperature: 0.8,
  repetitionPenalty: 10,
  ...p,
});

const draw = (logits: number[], p: SamplingParams, seen: number[] = [], banned?: number, n = 2000, seed = 1) => {
  const rng = new Rng(seed);
  const counts = new Map<number, number>();
  const row = Float32Array.from(logits);
  for (let i = 0; i < n; i++) {
    const t = sampleToken(row, 0, row.length, new Set(seen), p, rng, banned);
    counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  return counts;
};

describe("sampleToken (HF generate semantics: repetition penalty, temperature, top-k, top-p)", () => {
  it("top_k = 1 is greedy", () => {
    expect([...draw([0.1, 3, 2.9, -1], params({ topK: 1 })).keys()]).toEqual([1]);
  });

  it("top_p keeps only the smallest head of the distribution that reaches p", () => {
    // softmax([5, 0, 0, 0]) puts ~0.95 on token 0, so top_p 0.8 leaves only token 0
    expect([...draw([5, 0, 0, 0], params({ topP: 0.8, temperature: 1 })).keys()]).toEqual([0]);
    // with top_p 1 every token can be drawn
    expect(draw([5, 0, 0, 0], params({ topP: 1, temperature: 1 }), [], undefined, 5000).size).toBe(4);
  });

  it("top_k bounds the candidates", () => {
    const counts = draw([1, 1, 1, 1, 1, 0.9], params({ topK: 3, topP: 1, temperature: 1 }));
    expect([...counts.keys()].every((t) => t < 3)).toBe(true);
  });

  it("the repetition penalty divides positive and multiplies negative logits of seen tokens", () => {
    // token 0 (logit 2) is seen: 2 / 10 = 0.2 < 1.5, so greedy picks token 1
    expect([...draw([2, 1.5, 0], params({ topK: 1 }), [0]).keys()]).toEqual([1]);
    // negative seen logit −0.1 × 10 = −1 < −0.5
    expect([...draw([-0.1, -0.5], params({ topK: 1 }), [0]).keys()]).toEqual([1]);
  });

  it("never draws a banned token", () => {
    expect(draw([10, 0, 0], params({ topK: 1 }), [], 0).has(0)).toBe(false);
  });

  it("draws in proportion to the renormalised probabilities", () => {
    const counts = draw([Math.log(3), 0], params({ topK: 2, topP: 1, temperature: 1 }), [], undefined, 20_000);
    const share = (counts.get(0) ?? 0) / 20_000;
    expect(share).toBeGreaterThan(0.73);
    expect(share).toBeLessThan(0.77);
  });

  it("is reproducible for a seed and differs across seeds", () => {
    const seq = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 20 }, () => rng.nextUint32());
    };
    expect(seq(5)).toEqual(seq(5));
    expect(seq(5)).not.toEqual(seq(6));
    expect(new Rng(5, 1).nextUint32()).not.toBe(new Rng(5, 2).nextUint32());
  });

  it("produces standard normals", () => {
    const rng = new Rng(9);
    const xs = Array.from({ length: 20_000 }, () => rng.nextNormal());
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });
});
