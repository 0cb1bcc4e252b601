import { describe, expect, it } from "vitest";
import { frontEndOptions, readModelDir } from "../../gpu-node/src/adapters/model-dir.ts";
import {
  callBytesPerSegment,
  defaultMemoryBudgetBytes,
  type EstimatedRequest,
  kvCacheBytes,
  MemoryBudget,
  memoryModel,
  type RequestShare,
  requestShare,
  setBytes,
} from "../../gpu-node/src/engine/memory-budget.ts";
import { planCodes } from "../../gpu-node/src/engine/request-state.ts";
import type { RequestState } from "../../gpu-node/src/engine/types.ts";
import type { Manifest } from "../../gpu-node/src/model/manifest.ts";
import { TINY_MODEL_DIR } from "../../gpu-node/src/testing/harness.ts";
import { SMALL_GRAPH_BYTES, withSmallDims } from "../../gpu-node/src/testing/small-dims.ts";
import { TextFrontEnd } from "../../gpu-node/src/text/tokenizer.ts";
import { MAX_TEXT_CODE_POINTS } from "../../proxy/src/core/text/length.ts";
import { pieceTexts } from "../../proxy/src/synthesis/pieces.ts";

/**
 * Issue 14: the memory estimate at the API's maximum text length (4,096 code points) on the `small` model's
 * dimensions, against the default budget of a 24 GiB host. The proxy sends such a text as pieces of whole
 * sentences (≤ 300 code points), all at once, each a node request: each must fit the budget alone (no valid
 * request refused), and sixteen customers' worth must not all be admitted at once.
 */
describe("the memory estimate at 4,096 code points on small's dimensions", async () => {
  const files = await readModelDir(TINY_MODEL_DIR); // small's tokenizer is tiny's
  const frontEnd = new TextFrontEnd(files.bpe, frontEndOptions(files));
  const randomWeights = withSmallDims(files.manifest);
  // real weights stop at their stop token, so the node plans every segment at the cap (1,500 codes)
  const realWeights: Manifest = { ...randomWeights, semantic_tokens_per_text_token: null };
  const budget24 = defaultMemoryBudgetBytes(24 * 2 ** 30, SMALL_GRAPH_BYTES);
  const shape = { maxBatch: 16 };
  const words = "the quick brown fox jumps over the lazy dog while seven bright stars rise above quiet hills".split(
    " ",
  );
  let text = "";
  for (let i = 0; [...`${text} ${words[i % words.length]}.`].length <= MAX_TEXT_CODE_POINTS; i++)
    text = `${text}${text ? " " : ""}${words[i % words.length]}${i % 12 === 11 ? "." : ""}`;

  /** the node requests a 4,096-code-point text becomes, as the engine plans them */
  const pieceRequests = (m: Manifest, beams: number): EstimatedRequest[] =>
    pieceTexts(text).map((piece) => {
      const segments = frontEnd
        .segments(piece)
        .filter((s) => s.ids.length > 0)
        .map((s) => s.ids);
      const plan = planCodes(m, { segments });
      return {
        speed: 1,
        sampling: { numBeams: beams },
        segments: segments.map((ids) => ({ textIds: [0, ...ids, 1], maxCodes: plan.codesFor(ids) })),
      };
    });
  const shares = (m: Manifest, beams: number): RequestShare[] =>
    pieceRequests(m, beams).map((r) => requestShare(memoryModel(m), r));

  it("every node request of a 4,096-code-point text fits the default budget alone (3 beams, real or random)", () => {
    expect([...text].length).toBeGreaterThan(MAX_TEXT_CODE_POINTS - 20);
    for (const m of [randomWeights, realWeights]) {
      const pieces = shares(m, 3);
      expect(pieces.length).toBeGreaterThan(10);
      for (const s of pieces) expect(setBytes(memoryModel(m), [s], shape)).toBeLessThan(budget24);
    }
  });

  it("sixteen such texts at once are over the default budget: admission holds some back, the sum stays under", () => {
    const model = memoryModel(realWeights);
    const all = Array.from({ length: 16 }, () => shares(realWeights, 3)).flat();
    expect(setBytes(model, all, shape)).toBeGreaterThan(budget24);
    const memory = new MemoryBudget(model, budget24, shape);
    // the admission loop's question, in arrival order
    const requests = Array.from({ length: 16 }, (_, c) =>
      pieceRequests(realWeights, 3).map((r, i) => ({ ...r, id: `c${c}.${i}` }) as unknown as RequestState),
    ).flat();
    let admitted = 0;
    for (const r of requests) {
      if (!memory.fits(r)) continue;
      memory.reserve(r);
      admitted++;
    }
    expect(admitted).toBeGreaterThan(0);
    expect(admitted).toBeLessThan(requests.length);
    expect(memory.reservedBytes).toBeLessThanOrEqual(budget24);
  });

  it("at full length one graph call's working set and the KV cache dominate; the audio is small beside them", () => {
    const model = memoryModel(realWeights);
    const one = shares(realWeights, 3);
    const frames = Math.max(...one.map((s) => s.frames));
    const positions = Math.max(...one.map((s) => s.positions));
    const call = 16 * callBytesPerSegment(model, frames); // a CFM or vocoder call of 16 full segments
    const kv = kvCacheBytes(model, 16, positions); // a full GPT batch
    const audio = one.reduce((n, s) => n + s.segments, 0) * frames * model.samplesPerFrame * 6; // one text's PCM + WAV
    expect(call).toBeGreaterThan(kv);
    expect(kv).toBeGreaterThan(10 * audio);
  });
});
