/**
 * The node's codes for e2e_official.py (issue 12 item 6): the node's own front end, voice bank and engine
 * (onnxruntime, the same classes `npm run node` wires) on a model directory, one request per stdin line, decoded
 * greedily: one beam and top-k 1 (the argmax of the repetition-penalised logits, which is what HF `generate` with
 * `do_sample=False, num_beams=1` picks; temperature and top-p cannot change the argmax). The HTTP API returns
 * audio only, so this calls the engine in-process.
 *
 *   npx tsx gpu-node/export/node_codes.ts --model DIR [--speaker 0] [--max-tokens 40] [--audio-dir DIR] < texts
 *
 * Prints one JSON object per line: {"text", "segments": [[ids...]], "codes": [[...]], "samples", "audio"}, where
 * "audio" (with --audio-dir) is a raw little-endian float32 file of the 22,050 Hz output.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
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

const node = await createTestNode({ maxBatch: 1 }, values.model);
try {
  const voice = node.voices.get(Number(values.speaker));
  let n = 0;
  for await (const text of createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY })) {
    if (text.trim() === "") continue;
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
    let audio: string | null = null;
    if (values["audio-dir"] !== undefined) {
      audio = join(values["audio-dir"], `node-${n}.f32`);
      const a = result.audio;
      await writeFile(audio, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    }
    process.stdout.write(
      `${JSON.stringify({ text, segments, codes: result.codes, samples: result.audio.length, audio })}\n`,
    );
    n++;
  }
} finally {
  await node.close();
}
