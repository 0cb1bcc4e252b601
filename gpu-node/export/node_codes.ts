/**
 * The node's codes for e2e_official.py (issue 12 item 6): the node's own front end, voice bank and engine
 * (onnxruntime, the same classes `npm run node` wires) on a model directory, one request per stdin line, decoded
 * greedily: one beam and top-k 1 (the argmax of the repetition-penalised logits, which is what HF `generate` with
 * `do_sample=False, num_beams=1` picks; temperature and top-p cannot change the argmax). The HTTP API returns
 * audio only, so this calls the engine in-process.
 *
 *   npx tsx gpu-node/export/node_codes.ts --model DIR [--speaker 0] [--max-tokens 40] [--audio-dir DIR] < texts
 *
 * Prints one JSON object per line: {"text", "segments": [[ids...]], "codes": [[...]], "samples", "audio",
 * "latents", "noise"}. With --audio-dir, "audio" is a raw little-endian float32 file of the 22,050 Hz output, and per
 * segment "latents" the s2mel latents the engine used (gpt_latent's output, (T, D)) and "noise" the CFM's starting
 * noise (the first dit_step's conditional row `x`, (80, frames), zero in the prompt region), so the official
 * infer can be run from the same noise. Requests run one at a time (max batch 1), so the calls recorded while a
 * request runs are its own, in segment order.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import type { Feeds, GraphName, InferenceBackend } from "../src/engine/backend.ts";
import { createTestNode } from "../src/testing/harness.ts";

const { values } = parseArgs({
  options: {
    model: { type: "string" },
    speaker: { type: "string", default: "0" },
    "max-tokens": { type: "string", default: "40" },
    "audio-dir": { type: "string" },
    seed: { type: "string", default: "1" },
  },
});
if (values.model === undefined) {
  process.stderr.write("usage: node_codes.ts --model DIR [--speaker 0] [--max-tokens 40] [--audio-dir DIR]\n");
  process.exit(2);
}

/** what the engine fed the graphs that matter here, per request */
const seen: {
  latents: { data: Float32Array; dims: readonly number[] }[];
  noise: { data: Float32Array; dims: number[] }[];
} = { latents: [], noise: [] };
const record = (inner: InferenceBackend): InferenceBackend => ({
  async run(graph: GraphName, feeds: Feeds, keep?: readonly string[]) {
    const out = await inner.run(graph, feeds, keep);
    const latent = out.latent;
    if (graph === "gpt_latent" && latent?.type === "float32")
      seen.latents.push({ data: latent.data.slice(), dims: latent.dims });
    const x = feeds.x;
    const t = feeds.t;
    if (graph === "dit_step" && x?.type === "float32" && t?.type === "float32" && t.data[0] === 0) {
      const [, m = 0, frames = 0] = x.dims;
      seen.noise.push({ data: x.data.slice(0, m * frames), dims: [m, frames] });
    }
    return out;
  },
  signature: (graph) => inner.signature(graph),
  close: () => inner.close(),
});

const node = await createTestNode({ maxBatch: 1, requestTimeoutMs: 3_600_000 }, values.model, record);
const dump = async (path: string, a: Float32Array) => {
  await writeFile(path, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return path;
};
try {
  const voice = node.voices.get(Number(values.speaker));
  let n = 0;
  for await (const text of createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY })) {
    if (text.trim() === "") continue;
    seen.latents = [];
    seen.noise = [];
    const segments = node.text.segments(text).map((s) => s.ids);
    const result = await node.engine.submit({
      id: `e2e-${n}`,
      segments,
      voice,
      emoVec: node.voices.emotionVector(voice, { kind: "none" }),
      speed: 1,
      seed: Number(values.seed),
      priority: "interactive",
      maxTokens: Number(values["max-tokens"]),
      sampling: { numBeams: 1, topK: 1 },
    });
    const dir = values["audio-dir"];
    const files = { audio: null as string | null, latents: [] as object[], noise: [] as object[] };
    if (dir !== undefined) {
      files.audio = await dump(join(dir, `node-${n}.f32`), result.audio);
      for (const [k, l] of seen.latents.entries())
        files.latents.push({ path: await dump(join(dir, `node-${n}.latent${k}.f32`), l.data), dims: l.dims.slice(1) });
      for (const [k, z] of seen.noise.entries())
        files.noise.push({ path: await dump(join(dir, `node-${n}.noise${k}.f32`), z.data), dims: z.dims });
    }
    process.stdout.write(
      `${JSON.stringify({ text, segments, codes: result.codes, samples: result.audio.length, ...files })}\n`,
    );
    n++;
  }
} finally {
  await node.close();
}
