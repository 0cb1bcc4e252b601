import { describe, expect, it } from "vitest";
import { readModelDir } from "../adapters/model-dir.ts";
import type { Manifest } from "../model/manifest.ts";
import { TINY_MODEL_DIR } from "../testing/harness.ts";
import { withSmallDims } from "../testing/small-dims.ts";
import {
  callBytesPerSegment,
  defaultMemoryBudgetBytes,
  ditAttentionBytes,
  estimateRequestBytes,
  kvCacheBytes,
  latentPassBytes,
  MemoryBudget,
  memoryModel,
} from "./memory-budget.ts";
import type { RequestState } from "./types.ts";

const request = (id: string, codes: number[], speed = 1, numBeams = 1) =>
  ({
    id,
    speed,
    sampling: { numBeams },
    segments: codes.map((c) => ({ textIds: new Array(60).fill(5), maxCodes: c })),
  }) as unknown as RequestState;

const MiB = 2 ** 20;

describe("per-request peak memory estimate", async () => {
  const { manifest } = await readModelDir(TINY_MODEL_DIR);
  const model = memoryModel(manifest);
  const small = memoryModel(withSmallDims(manifest));

  it("grows with segments, lengths, beams and slower speech, and with the model's width", () => {
    const one = estimateRequestBytes(model, request("a", [600]));
    expect(estimateRequestBytes(model, request("a", [600, 600]))).toBeGreaterThan(one);
    expect(estimateRequestBytes(model, request("a", [1200]))).toBeGreaterThan(one);
    expect(estimateRequestBytes(model, request("a", [600], 0.5))).toBeGreaterThan(one);
    // beams are cache rows; 1 to 4 rows share the cache's smallest row-slot count (4), and with the latent pass the
    // beams keep no latents of their own: beams cost more once they need more slots
    expect(estimateRequestBytes(model, request("a", [600], 1, 3))).toBeGreaterThanOrEqual(one);
    expect(estimateRequestBytes(model, request("a", [600], 1, 5))).toBeGreaterThan(one);
    const wider = memoryModel({ ...manifest, gpt: { ...manifest.gpt, model_dim: manifest.gpt.model_dim * 24 } });
    expect(estimateRequestBytes(wider, request("a", [600]))).toBeGreaterThan(one);
  });

  it("counts the latents, the held frames, the audio, the KV cache and one graph call (checked by hand)", () => {
    const D = manifest.gpt.model_dim;
    const L = manifest.gpt.layers;
    const codes = 100;
    const frames = Math.ceil(manifest.s2mel.code_to_frame_ratio * codes);
    const c = manifest.s2mel.content_dim;
    // tiny has the latent pass: one set of latents per segment (not one per beam: no step latents are kept)
    expect(model.latentPassHeads).not.toBeNull();
    const held = 1 * codes * D * 4 + frames * (2 * 80 + 2 * c + 256) * 4 + frames * 256 * 6;
    // 3 beams: 3 rows, 4 slots; capacity: cond + 60 text + 100 codes + 1, in steps of 32
    const positions = manifest.gpt.cond_tokens + 60 + codes;
    const kv = 2 * 4 * Math.ceil((positions + 1) / 32) * 32 * L * 2 * D * 4;
    const call = callBytesPerSegment(model, frames);
    expect(kvCacheBytes(model, 3, positions)).toBe(kv);
    expect(estimateRequestBytes(model, request("a", [codes], 1, 3))).toBe(held + kv + call);
  });

  it("a CFM step's attention is quadratic in the frames; the call term takes the larger of CFM and vocoder", () => {
    expect(ditAttentionBytes(small, 2000)).toBe(4 * ditAttentionBytes(small, 1000));
    const frames = 2064; // 1,200 codes
    const cfm =
      ditAttentionBytes(small, frames + small.promptFrames) + (frames + small.promptFrames) * small.cfmBytesPerFrame;
    expect(callBytesPerSegment(small, frames)).toBe(Math.max(cfm, frames * small.vocoderBytesPerFrame));
    // measured on small at this length (RELIABILITY.md, memory-stages.ts): CFM step 157–183 MiB, vocoder 119–274 MiB
    expect(cfm).toBeGreaterThan(183 * MiB);
    expect(frames * small.vocoderBytesPerFrame).toBeGreaterThan(274 * MiB * 0.9);
  });

  it("a model with the teacher-forced latent pass is charged its attention over a whole segment", () => {
    // tiny (and a freshly generated small) has the pass; a model directory exported before it had none
    const { gpt_latent: _, ...filesWithoutPass } = manifest.files as Record<string, string>;
    const withoutPass = memoryModel({ ...withSmallDims(manifest), files: filesWithoutPass } as Manifest);
    const withPass = memoryModel({
      ...withSmallDims(manifest),
      files: { ...manifest.files, gpt_latent: "gpt_latent.onnx" },
    } as Manifest);
    const long = request("long", [1200], 1, 1);
    const positions = manifest.gpt.cond_tokens + 60 + 1200;
    expect(withoutPass.latentPassHeads).toBeNull();
    expect(withPass.latentPassHeads).toBe(24);
    expect(latentPassBytes(withPass, positions)).toBeGreaterThan(3 * 24 * positions * positions * 4);
    // one 1-beam segment: the pass (24 heads × 1,294²) is larger than its CFM or vocoder call
    expect(estimateRequestBytes(withPass, long) - estimateRequestBytes(withoutPass, long)).toBe(
      latentPassBytes(withPass, positions) -
        callBytesPerSegment(withoutPass, Math.ceil(withoutPass.framesPerCode * 1200)),
    );
    // with 3 beams the pass also spares two of the three sets of step latents (gpt-stage.ts keeps none)
    const long3 = request("long3", [1200], 1, 3);
    expect(estimateRequestBytes(withPass, long3) - estimateRequestBytes(withoutPass, long3)).toBe(
      latentPassBytes(withPass, positions) -
        callBytesPerSegment(withoutPass, Math.ceil(withoutPass.framesPerCode * 1200)) -
        2 * 1200 * withPass.bytesPerCode,
    );
  });

  it("a short request next to a long one pays for the long one's cache capacity (rows are padded to it)", () => {
    const long = request("long", [1200], 1, 3);
    const short = request("short", [10], 1, 3);
    const budget = new MemoryBudget(small, Number.POSITIVE_INFINITY, { maxBatch: 16 });
    budget.reserve(long);
    const before = budget.reservedBytes;
    budget.reserve(short);
    // alone, the short request costs far less than it adds next to the long one (6 rows: 8 slots of its capacity)
    expect(budget.reservedBytes - before).toBeGreaterThan(estimateRequestBytes(small, short, { maxBatch: 16 }));
  });

  it("the cache keeps its row slots while the batch runs: a release frees held bytes, not slots, until idle", () => {
    const a = request("a", [1200], 1, 3);
    const b = request("b", [1200], 1, 3);
    const budget = new MemoryBudget(small, Number.POSITIVE_INFINITY, { maxBatch: 16 });
    budget.reserve(a);
    const aloneBytes = budget.reservedBytes;
    budget.reserve(b); // 6 rows: 8 slots
    budget.release("b");
    expect(budget.reservedBytes).toBeGreaterThan(aloneBytes);
    budget.release("a");
    expect(budget.reservedBytes).toBe(0);
    budget.reserve(a);
    expect(budget.reservedBytes).toBe(aloneBytes);
  });

  it("the budget admits while the sum fits, and frees a request's share when it settles", () => {
    const a = request("a", [600]);
    const b = request("b", [600]);
    const budget = new MemoryBudget(model, estimateRequestBytes(model, a) * 1.001);
    expect(budget.fits(a)).toBe(true);
    budget.reserve(a);
    expect(budget.fits(a)).toBe(true); // already holding
    expect(budget.fits(b)).toBe(false);
    budget.release("a");
    expect(budget.reservedBytes).toBe(0);
    expect(budget.fits(b)).toBe(true);
  });

  it("the default budget is 60 % of the host's memory less what the node holds, at least 256 MiB", () => {
    expect(defaultMemoryBudgetBytes(24 * 2 ** 30, 2 * 2 ** 30)).toBe(Math.floor(0.6 * 24 * 2 ** 30 - 2 * 2 ** 30));
    expect(defaultMemoryBudgetBytes(2 ** 30, 2 ** 30)).toBe(256 * MiB);
  });
});
