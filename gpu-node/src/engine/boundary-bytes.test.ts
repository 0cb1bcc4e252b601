import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestNode } from "../testing/harness.ts";
import { CountingBackend } from "./boundary-bytes.ts";
import { GptStage } from "./gpt-stage.ts";
import { capacityFor } from "./kv-cache.ts";
import { planCodes, requestState } from "./request-state.ts";

type TestNode = Awaited<ReturnType<typeof createTestNode>>;

/**
 * The byte accounting on the CPU provider, through the real GPT stage on the tiny model: what each decode step
 * feeds and fetches, at ~100 and ~1,000 tokens of history. With the host-side KV cache (this loop) the bytes in
 * grow with the cache capacity; the test pins the accounting to the tensors' sizes so the growth it shows is real.
 */
describe("CountingBackend (bytes across the host boundary per decode step)", () => {
  let node: TestNode;
  beforeAll(async () => {
    node = await createTestNode({ maxBatch: 1 });
  });
  afterAll(async () => node.close());

  it("counts every fed and fetched byte; with the host cache the bytes per token grow with the history", async () => {
    const m = node.files.manifest;
    const counted = new CountingBackend(node.backend);
    const gpt = new GptStage(counted, m);
    const voice = node.voices.get(0);
    const job = {
      id: "bytes",
      segments: [node.text.segments("Hello there, this is a short test.").flatMap((s) => s.ids)],
      voice,
      emoVec: node.voices.emotionVector(voice, { kind: "none" }),
      speed: 1,
      seed: 5,
      priority: "interactive" as const,
      maxTokens: 1100,
    };
    const plan = { ...planCodes(m, job), codesFor: () => 1100 };
    const state = requestState(m, job, plan, {
      sampling: { topK: 30, topP: 0.8, temperature: 0.8, repetitionPenalty: 10, numBeams: 1, lengthPenalty: 0 },
      now: 0,
      timeoutMs: 60_000,
    });
    const seg = state.segments[0];
    if (!seg) throw new Error("no segment");
    await gpt.condition(state);
    await gpt.prefill(seg);
    const prompt = m.gpt.cond_tokens + seg.textIds.length + 1;
    const { layers, heads, model_dim: d, number_mel_codes: v } = m.gpt;
    const hd = d / heads;
    const perStep = new Map<number, { in: number; out: number }>();
    for (let history = prompt; history < 1000; history++) {
      await gpt.decodeStep();
      const t = counted.snapshot().gpt_decode;
      if (!t) throw new Error("no decode traffic");
      perStep.set(history, { in: t.lastIn, out: t.lastOut });
    }
    for (const history of [100, 999]) {
      const p = capacityFor([history]);
      const step = perStep.get(history);
      // mel_ids + mel_pos + attention_mask (int64) and the whole cache (float32) in; logits, hidden, new K/V out
      expect(step?.in).toBe(8 + 8 + 8 * (p + 1) + 2 * layers * heads * p * hd * 4);
      expect(step?.out).toBe(4 * (v + d + 2 * layers * heads * hd));
    }
    const growth = (perStep.get(999)?.in ?? 0) / (perStep.get(100)?.in ?? 1);
    // the problem issue 13 names: not flat, it follows the cache capacity (128 → 1,024 slots here)
    expect(growth).toBeCloseTo(capacityFor([999]) / capacityFor([100]), 1);
  });
});
