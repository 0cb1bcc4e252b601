import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestNode } from "../testing/harness.ts";
import type { SynthesisJob } from "./api.ts";
import { f32, floatOutput, i64 } from "./backend.ts";
import { CountingBackend } from "./boundary-bytes.ts";
import { GptStage } from "./gpt-stage.ts";
import { planCodes, requestState } from "./request-state.ts";
import { cacheNames } from "./resident-cache.ts";

/**
 * fp16 GPT weights and KV cache (issue 13; `tools/fp16_graphs.py gpu-node/models/tiny gpu-node/models/tiny-fp16`).
 * On the CPU provider onnxruntime runs the fp16 graphs through inserted casts: what is checked here is that the
 * graphs are right (close to fp32, the cache half the size, the node runs them), not their speed, which is a GPU
 * matter (bench/gpu_decode_check.py).
 */
const FP16_DIR = fileURLToPath(new URL("../../models/tiny-fp16", import.meta.url));
type TestNode = Awaited<ReturnType<typeof createTestNode>>;

describe("fp16 weights and KV cache (issue 13)", () => {
  let fp32: TestNode;
  let fp16: TestNode;
  beforeAll(async () => {
    fp32 = await createTestNode({ maxBatch: 8, maxQueueDelayMs: 20, decodeLoop: "resident" });
    fp16 = await createTestNode({ maxBatch: 8, maxQueueDelayMs: 20, decodeLoop: "resident" }, FP16_DIR);
  });
  afterAll(async () => {
    await fp32.close();
    await fp16.close();
  });

  const job = (node: TestNode, i: number, beams: number, maxTokens: number): SynthesisJob => {
    const voice = node.voices.get(i % 3);
    return {
      id: `h${i}`,
      segments: node.text.segments("Hello there, this is a short test.").map((s) => s.ids),
      voice,
      emoVec: node.voices.emotionVector(voice, { kind: "none" }),
      speed: 1,
      seed: 500 + i,
      priority: "interactive",
      maxTokens,
      sampling: { numBeams: beams },
    };
  };

  it("the fp16 prefill gives fp32's logits and hidden state within fp16 rounding", async () => {
    const m = fp32.files.manifest;
    const d = m.gpt.model_dim;
    const prefix = new Float32Array(m.gpt.cond_tokens * d).map((_, i) => Math.sin(i) * 0.5);
    const ids = [0, 17, 42, 300, 1];
    const feeds = { cond_prefix: f32(prefix, [1, m.gpt.cond_tokens, d]), text_ids: i64(ids, [1, ids.length]) };
    const keep = cacheNames("present", m.gpt.layers); // the cache stays resident (float16 in the fp16 model)
    const a = await fp32.backend.run("gpt_prefill", feeds, keep);
    const b = await fp16.backend.run("gpt_prefill", feeds, keep);
    expect(b.present_key_0?.type === "resident" && b.present_key_0.bytes).toBe(
      a.present_key_0?.type === "resident" && a.present_key_0.bytes / 2,
    );
    for (const name of ["logits", "hidden"]) {
      const x = floatOutput(a, name);
      const y = floatOutput(b, name);
      let diff = 0;
      let scale = 0;
      for (let k = 0; k < x.length; k++) {
        diff = Math.max(diff, Math.abs((x[k] ?? 0) - (y[k] ?? 0)));
        scale = Math.max(scale, Math.abs(x[k] ?? 0));
      }
      expect(diff / scale).toBeLessThan(2e-2);
      expect(diff).toBeGreaterThan(0); // it is fp16 arithmetic, not the fp32 graph again
    }
  });

  it("keeps a resident cache half the size of fp32's, step for step", async () => {
    const run = async (node: TestNode) => {
      const counted = new CountingBackend(node.backend);
      const gpt = new GptStage(counted, node.files.manifest, "resident");
      const one = job(node, 0, 1, 80);
      const state = requestState(node.files.manifest, one, planCodes(node.files.manifest, one), {
        sampling: { topK: 30, topP: 0.8, temperature: 0.8, repetitionPenalty: 10, numBeams: 1, lengthPenalty: 0 },
        now: 0,
        timeoutMs: 60_000,
      });
      const seg = state.segments[0];
      if (!seg) throw new Error("setup");
      await gpt.condition(state);
      await gpt.prefill(seg);
      for (let s = 0; s < 40; s++) await gpt.decodeStep();
      return counted.snapshot().gpt_decode_resident;
    };
    const [a, b] = [await run(fp32), await run(fp16)];
    expect(b?.calls).toBe(a?.calls);
    expect(b?.residentIn).toBe((a?.residentIn ?? 0) / 2);
    // what crosses the host boundary is the same: ids, positions, lengths in; fp32 logits and hidden out
    expect(b?.bytesIn).toBe(a?.bytesIn);
    expect(b?.bytesOut).toBe(a?.bytesOut);
  });

  it("synthesizes with beams on the fp16 model (rows joining and leaving)", async () => {
    const results = await Promise.all([3, 1, 2].map((beams, i) => fp16.engine.submit(job(fp16, i, beams, 24 + 5 * i))));
    for (const r of results) {
      expect(r.codes.length).toBeGreaterThan(0);
      expect(r.audio.length).toBeGreaterThan(0);
      expect(r.audio.every(Number.isFinite)).toBe(true);
    }
  });

  it("refuses a float16 cache in the host loop", () => {
    expect(() => new GptStage(fp16.backend, fp16.files.manifest, "host")).toThrow(/resident decode loop/);
  });
});
