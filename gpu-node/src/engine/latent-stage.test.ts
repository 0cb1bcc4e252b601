import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { readModelDir } from "../adapters/model-dir.ts";
import { OrtBackend } from "../adapters/ort-backend.ts";
import type { Manifest } from "../model/manifest.ts";
import { VoiceBank } from "../model/voices.ts";
import { defaultTestOptions, TINY_MODEL_DIR } from "../testing/harness.ts";
import { TextFrontEnd } from "../text/tokenizer.ts";
import { type Feeds, f32, floatOutput, type GraphName, type InferenceBackend, i64 } from "./backend.ts";
import { Engine } from "./engine.ts";
import { LatentStage } from "./latent-stage.ts";
import type { SegmentState } from "./types.ts";

/** Every call of the graphs named, with its feeds and outputs. */
class RecordingBackend implements InferenceBackend {
  readonly calls: { graph: GraphName; feeds: Feeds; out: Feeds }[] = [];
  constructor(private readonly inner: InferenceBackend) {}
  async run(graph: GraphName, feeds: Feeds, keep?: readonly string[]): Promise<Feeds> {
    const out = await this.inner.run(graph, feeds, keep);
    this.calls.push({ graph, feeds, out });
    return out;
  }
  signature(graph: GraphName) {
    return this.inner.signature(graph);
  }
  close() {
    return this.inner.close();
  }
}

const floats = (feeds: Feeds, name: string) => floatOutput(feeds, name);

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return worst;
}

/** Append `add` (1, H, 1, hd) to `past` (1, H, P, hd) along the position axis. */
function appendKv(past: Float32Array, add: Float32Array, heads: number, hd: number): Float32Array {
  const p = past.length / (heads * hd);
  const out = new Float32Array(past.length + add.length);
  for (let h = 0; h < heads; h++) {
    out.set(past.subarray(h * p * hd, (h + 1) * p * hd), h * (p + 1) * hd);
    out.set(add.subarray(h * hd, (h + 1) * hd), (h * (p + 1) + p) * hd);
  }
  return out;
}

/**
 * The teacher-forced latents built independently from the prefill and decode graphs: `[start_mel, c_0 .. c_{n-2}]`
 * with code c_j at mel position j + 1 (UnifiedVoice.forward's layout; generation feeds it at j + 2).
 */
async function teacherForced(
  backend: InferenceBackend,
  m: Manifest,
  cond: Float32Array,
  text: BigInt64Array,
  codes: BigInt64Array,
) {
  const g = m.gpt;
  const hd = g.model_dim / g.heads;
  const prefill = await backend.run("gpt_prefill", {
    cond_prefix: f32(cond, [1, g.cond_tokens, g.model_dim]),
    text_ids: i64(text, [1, text.length]),
  });
  const rows = [floats(prefill, "hidden")];
  let past = Array.from({ length: g.layers }, (_, i) => [
    floats(prefill, `present_key_${i}`),
    floats(prefill, `present_value_${i}`),
  ]);
  for (let j = 0; j + 1 < codes.length; j++) {
    const p = (past[0]?.[0]?.length ?? 0) / (g.heads * hd);
    const feeds: Feeds = {
      mel_ids: i64([Number(codes[j])], [1, 1]),
      mel_pos: i64([j + 1], [1]),
      attention_mask: i64(new Array(p + 1).fill(1), [1, p + 1]),
    };
    past.forEach(([k, v], i) => {
      feeds[`past_key_${i}`] = f32(k as Float32Array, [1, g.heads, p, hd]);
      feeds[`past_value_${i}`] = f32(v as Float32Array, [1, g.heads, p, hd]);
    });
    const out = await backend.run("gpt_decode", feeds);
    rows.push(floats(out, "hidden"));
    past = past.map(([k, v], i) => [
      appendKv(k as Float32Array, floats(out, `new_key_${i}`), g.heads, hd),
      appendKv(v as Float32Array, floats(out, `new_value_${i}`), g.heads, hd),
    ]);
  }
  const all = new Float32Array(rows.length * g.model_dim);
  for (const [i, r] of rows.entries()) all.set(r, i * g.model_dim);
  return all;
}

describe("the s2mel latents come from IndexTTS2's teacher-forced second GPT pass (gpt_latent)", () => {
  let backend: OrtBackend;
  let recording: RecordingBackend;
  let engine: Engine;
  let manifest: Manifest;
  let voices: VoiceBank;
  let text: TextFrontEnd;

  beforeAll(async () => {
    const files = await readModelDir(TINY_MODEL_DIR);
    manifest = files.manifest;
    const runtime = { executionProviders: ["cpu"], intraOpThreads: 1, interOpThreads: 1, intraOpSpinning: false };
    backend = await OrtBackend.create(files.graphPaths, runtime);
    recording = new RecordingBackend(backend);
    engine = new Engine({ backend: recording, manifest, options: defaultTestOptions });
    voices = new VoiceBank(files.manifest, files.voices, files.emotions);
    text = new TextFrontEnd(files.bpe);
  });
  afterAll(async () => {
    await engine.destroy();
    await backend.close();
  });

  it("feeds the projector gpt_latent's output, which equals the teacher-forced pass, not the decode steps' hidden states", async () => {
    const voice = voices.get(0);
    await engine.submit({
      id: "latent",
      segments: text.segments("Hello there, this is a short test.").map((s) => s.ids),
      voice,
      emoVec: voices.emotionVector(voice, { kind: "label", label: "calm", alpha: 0.6 }),
      speed: 1,
      seed: 7,
      priority: "interactive",
      sampling: { numBeams: 1 },
    });
    const latentCalls = recording.calls.filter((c) => c.graph === "gpt_latent");
    const projectorCalls = recording.calls.filter((c) => c.graph === "latent_projector");
    expect(latentCalls.length).toBe(projectorCalls.length);
    expect(latentCalls.length).toBeGreaterThan(0);
    const decodeHidden = recording.calls
      .filter((c) => c.graph !== "gpt_latent" && "hidden" in c.out)
      .map((c) => floats(c.out, "hidden"));
    for (const [i, call] of latentCalls.entries()) {
      const projector = projectorCalls[i];
      if (!projector) throw new Error("no projector call");
      const latent = floats(call.out, "latent");
      // the projector gets exactly what the teacher-forced pass returned
      expect(maxAbsDiff(floats(projector.feeds, "latent"), latent)).toBe(0);
      const codes = call.feeds.codes;
      const cond = call.feeds.cond_prefix;
      const ids = call.feeds.text_ids;
      if (codes?.type !== "int64" || cond?.type !== "float32" || ids?.type !== "int64") throw new Error("feeds");
      expect(codes.data).toEqual((projector.feeds.codes as { data: BigInt64Array }).data);
      const reference = await teacherForced(backend, manifest, cond.data, ids.data, codes.data);
      expect(maxAbsDiff(latent, reference)).toBeLessThan(1e-4);
      // and it is not what generation's hidden states were (code c_j at position j + 2): the stage matters
      const generated = new Float32Array(latent.length);
      for (const [j, h] of decodeHidden.slice(0, codes.data.length).entries())
        generated.set(h, j * manifest.gpt.model_dim);
      expect(
        maxAbsDiff(latent.subarray(manifest.gpt.model_dim), generated.subarray(manifest.gpt.model_dim)),
      ).toBeGreaterThan(1e-3);
    }
  });

  it("keeps no decode-step latents while the beams decode: the pass makes them, one set per segment", async () => {
    const arrived: { codes: number; latents: number }[] = [];
    const accept = vi.spyOn(LatentStage.prototype, "accept").mockImplementation(function (
      this: LatentStage,
      seg: SegmentState,
    ) {
      arrived.push({ codes: seg.codes.length, latents: seg.latents.length });
      (this as unknown as { queue: SegmentState[] }).queue.push(seg);
    });
    try {
      const voice = voices.get(1);
      const result = await engine.submit({
        id: "beams",
        segments: text.segments("Three beams decode this. Then a second sentence.").map((s) => s.ids),
        voice,
        emoVec: voices.emotionVector(voice, { kind: "label", label: "calm", alpha: 0.6 }),
        speed: 1,
        seed: 11,
        priority: "interactive",
        sampling: { numBeams: 3 },
      });
      expect(result.audio.length).toBeGreaterThan(0);
    } finally {
      accept.mockRestore();
    }
    expect(arrived.length).toBeGreaterThan(0);
    for (const a of arrived) {
      expect(a.codes).toBeGreaterThan(0);
      expect(a.latents).toBe(0);
    }
  });
});
