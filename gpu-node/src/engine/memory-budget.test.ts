import { describe, expect, it } from "vitest";
import { readModelDir } from "../adapters/model-dir.ts";
import { TINY_MODEL_DIR } from "../testing/harness.ts";
import { estimateRequestBytes, MemoryBudget, memoryModel } from "./memory-budget.ts";
import type { RequestState } from "./types.ts";

const request = (id: string, codes: number[], speed = 1) =>
  ({
    id,
    speed,
    segments: codes.map((c) => ({ textIds: new Array(60).fill(5), maxCodes: c })),
  }) as unknown as RequestState;

describe("per-request peak memory estimate", async () => {
  const { manifest } = await readModelDir(TINY_MODEL_DIR);
  const model = memoryModel(manifest);

  it("grows with segments, lengths and slower speech, and with the model's width", () => {
    const one = estimateRequestBytes(model, request("a", [600]));
    expect(estimateRequestBytes(model, request("a", [600, 600]))).toBeGreaterThan(one);
    expect(estimateRequestBytes(model, request("a", [1200]))).toBeGreaterThan(one);
    expect(estimateRequestBytes(model, request("a", [600], 0.5))).toBeGreaterThan(one);
    const wider = memoryModel({ ...manifest, gpt: { ...manifest.gpt, model_dim: manifest.gpt.model_dim * 24 } });
    expect(estimateRequestBytes(wider, request("a", [600]))).toBeGreaterThan(one);
  });

  it("counts the KV cache, latents, mel, the vocoder's widest layer and the audio (checked by hand)", () => {
    const D = manifest.gpt.model_dim;
    const L = manifest.gpt.layers;
    const codes = 100;
    const frames = Math.ceil(manifest.s2mel.code_to_frame_ratio * codes);
    const kv = (manifest.gpt.cond_tokens + 60 + codes) * 3 * L * 2 * D * 4;
    const perSegment = kv + codes * D * 4 + frames * (2 * (80 + manifest.s2mel.content_dim) + 256) * 4;
    const bytes = estimateRequestBytes(model, request("a", [codes]));
    // the rest is the vocoder's working set and the joined audio with its WAV
    expect(bytes - perSegment).toBe(frames * model.vocoderBytesPerFrame + frames * 256 * 6);
  });

  it("the budget admits while the sum fits, and frees a request's share when it settles", () => {
    const a = request("a", [600]);
    const b = request("b", [600]);
    const budget = new MemoryBudget(model, estimateRequestBytes(model, a) * 1.5);
    expect(budget.fits(a)).toBe(true);
    budget.reserve(a);
    expect(budget.fits(a)).toBe(true); // already holding
    expect(budget.fits(b)).toBe(false);
    budget.release("a");
    expect(budget.reservedBytes).toBe(0);
    expect(budget.fits(b)).toBe(true);
  });
});
