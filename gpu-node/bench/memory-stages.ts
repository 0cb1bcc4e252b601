/**
 * Where a full-length request's memory goes (issue 14 #1): one graph call of each memory-heavy stage at the
 * maximum segment length, on a real model, with the process's peak RSS measured around the call (Linux: VmHWM,
 * reset through /proc/self/clear_refs before each call). Next to each figure, the term of the admission estimate
 * (gpu-node/src/engine/memory-budget.ts) that is meant to cover it, so an under-count shows as a ratio below 1.
 *
 *   npx tsx gpu-node/bench/memory-stages.ts -- [--model /work/models/small] [--rows 16] [--codes 1200]
 *
 * - decode: one GPT decode step for `--rows` batch rows whose KV cache holds a full segment (cond + 122 text
 *   positions + `--codes` codes). The cache buffers are the inputs; the call's own growth is the extra.
 * - dit_step: one CFM step of one segment (its CFG twin makes 2 rows) at the matching mel length; it has
 *   self-attention over all frames, so its scores grow with frames².
 * - vocoder: the segment's mel to audio.
 * - PCM: a 16-segment request's audio, joined, and its 16-bit WAV (computed; no graph).
 * Random weights do not change any of these sizes: they depend on shapes only.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { readModelDir } from "../src/adapters/model-dir.ts";
import { OrtBackend } from "../src/adapters/ort-backend.ts";
import { f32, type GraphName, i64, type Tensor } from "../src/engine/backend.ts";
import { CAPACITY_STEP } from "../src/engine/kv-cache.ts";
import { ditAttentionBytes, kvCacheBytes, memoryModel } from "../src/engine/memory-budget.ts";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "/work/models/small" },
    rows: { type: "string", default: "16" },
    codes: { type: "string", default: "1200" },
  },
});
const files = await readModelDir(values.model as string);
const m = files.manifest;
const rows = Number(values.rows);
const codes = Number(values.codes);
const model = memoryModel(m);

const kb = (field: string) =>
  Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync("/proc/self/status", "utf8"))?.[1]) * 1024;
const mb = (b: number) => Math.round(b / 2 ** 20);

const graphs: GraphName[] = ["gpt_decode", "dit_step", "vocoder"];
const backend = await OrtBackend.create(
  Object.fromEntries(graphs.map((g) => [g, files.graphPaths[g as "gpt_decode"]])),
  { executionProviders: ["cpu"], intraOpThreads: 2, interOpThreads: 1, intraOpSpinning: false },
);

/** Peak RSS above the level before the call (inputs already allocated), and the inputs' own bytes. */
async function measure(graph: GraphName, feeds: () => Record<string, Tensor>) {
  const inputs = feeds();
  const inputBytes = Object.values(inputs).reduce((n, t) => n + (t.type === "resident" ? 0 : t.data.byteLength), 0);
  global.gc?.();
  const before = kb("VmRSS");
  writeFileSync("/proc/self/clear_refs", "5"); // reset VmHWM to the current RSS
  const started = performance.now();
  await backend.run(graph, inputs);
  const seconds = (performance.now() - started) / 1000;
  return { inputBytes, callBytes: kb("VmHWM") - before, seconds };
}

const g = m.gpt;
const hd = g.model_dim / g.heads;
const positions = g.cond_tokens + m.limits.max_text_tokens_per_segment + 2 + codes;
const capacity = Math.ceil((positions + 1) / CAPACITY_STEP) * CAPACITY_STEP;
const decode = await measure("gpt_decode", () => {
  const feeds: Record<string, Tensor> = {
    mel_ids: i64(new Array(rows).fill(8192), [rows, 1]),
    mel_pos: i64(new Array(rows).fill(codes), [rows]),
    attention_mask: i64(new Array(rows * (capacity + 1)).fill(1), [rows, capacity + 1]),
  };
  for (let l = 0; l < g.layers; l++) {
    feeds[`past_key_${l}`] = f32(new Float32Array(rows * g.heads * capacity * hd), [rows, g.heads, capacity, hd]);
    feeds[`past_value_${l}`] = f32(new Float32Array(rows * g.heads * capacity * hd), [rows, g.heads, capacity, hd]);
  }
  return feeds;
});

const s = m.s2mel;
const refFrames = Math.max(...m.voices.map((v) => v.ref_frames));
const genFrames = Math.ceil(s.code_to_frame_ratio * codes);
const T = refFrames + genFrames;
const dit = await measure("dit_step", () => ({
  x: f32(new Float32Array(2 * s.n_mels * T), [2, s.n_mels, T]),
  prompt_x: f32(new Float32Array(2 * s.n_mels * T), [2, s.n_mels, T]),
  x_lens: i64([T, T], [2]),
  t: f32(new Float32Array([0.5, 0.5]), [2]),
  style: f32(new Float32Array(2 * s.style_dim), [2, s.style_dim]),
  cond: f32(new Float32Array(2 * T * s.content_dim), [2, T, s.content_dim]),
}));
const vocoder = await measure("vocoder", () => ({
  mel: f32(new Float32Array(s.n_mels * genFrames), [1, s.n_mels, genFrames]),
  mel_lens: i64([genFrames], [1]),
}));
await backend.close();

const pcm = m.limits.max_segments * genFrames * m.hop_length * 6;
const estimate = {
  // the cache buffer and its copy (as the estimate charges the whole batch)
  decode: kvCacheBytes(model, rows, positions),
  dit: T * model.cfmBytesPerFrame + ditAttentionBytes(model, T),
  vocoder: genFrames * model.vocoderBytesPerFrame,
};
console.log(
  `model ${m.name}${m.random_weights ? " (RANDOM weights; sizes depend on shapes only)" : ""}: ${codes} codes per segment ` +
    `(${positions} cache positions, capacity ${capacity}; ${genFrames} mel frames + ${refFrames} prompt frames)`,
);
console.table([
  {
    what: `GPT decode step, ${rows} rows`,
    inputsMb: mb(decode.inputBytes),
    callPeakMb: mb(decode.callBytes),
    estimateMb: mb(estimate.decode),
    seconds: decode.seconds.toFixed(2),
  },
  {
    what: "CFM step, 1 segment (2 rows with CFG)",
    inputsMb: mb(dit.inputBytes),
    callPeakMb: mb(dit.callBytes),
    estimateMb: mb(estimate.dit),
    seconds: dit.seconds.toFixed(2),
  },
  {
    what: "vocoder, 1 segment",
    inputsMb: mb(vocoder.inputBytes),
    callPeakMb: mb(vocoder.callBytes),
    estimateMb: mb(estimate.vocoder),
    seconds: vocoder.seconds.toFixed(2),
  },
  {
    what: `joined audio + WAV, ${m.limits.max_segments} segments`,
    inputsMb: mb(pcm),
    callPeakMb: 0,
    estimateMb: mb(pcm),
    seconds: "-",
  },
]);
