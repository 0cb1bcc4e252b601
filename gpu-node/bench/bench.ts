/**
 * npm run bench:gpu-node — batching off vs on at concurrency 1/4/8/16/32 on the `small` random-weight model, and
 * the GPT decode's FLOP/s against onnxruntime's own MatMul peak, in one run. Writes bench-out/gpu-node.{json,md}.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { readModelDir } from "../src/adapters/model-dir.ts";
import { measureDecode, measureMatmulPeak } from "./flops.ts";
import { type LevelResult, runLevel, startNode } from "./load.ts";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "gpu-node/models/small" },
    size: { type: "string", default: "small" },
    levels: { type: "string", default: "1,4,8,16,32" },
    "max-batch": { type: "string", default: "32" },
    "max-tokens": { type: "string", default: "60" },
    threads: { type: "string", default: String(availableParallelism()) },
    out: { type: "string", default: "bench-out" },
    "flops-only": { type: "boolean" },
    help: { type: "boolean" },
  },
});
if (values.help) {
  console.log(
    "usage: npm run bench:gpu-node -- [--model DIR] [--levels 1,4,8,16,32] [--max-batch 32] [--max-tokens 60]",
  );
  process.exit(0);
}
const modelDir = values.model;
if (!existsSync(join(modelDir, "manifest.json"))) {
  console.log(`generating the ${values.size} model into ${modelDir} (needs /usr/bin/python3 with torch and onnx)…`);
  execFileSync("/usr/bin/python3", ["gpu-node/tools/generate_model.py", "--size", values.size, "--out", modelDir], {
    stdio: "inherit",
  });
}
const files = await readModelDir(modelDir);
const levels = values.levels.split(",").map(Number);
const threads = Number(values.threads);
const maxTokens = Number(values["max-tokens"]);
const TEXTS = [
  "欢迎使用IndexTTS2语音合成服务。",
  "Good morning, the meeting starts at nine.",
  "今天的天气非常好,适合出去散步。",
  "Please confirm your order number.",
];
const payload = (i: number) => ({
  text: TEXTS[i % TEXTS.length],
  emotion: "happy",
  speaker_id: i % 3,
  speed: 1.0,
  seed: i,
  max_tokens: maxTokens,
});

console.log(`model ${files.manifest.name} (${files.manifest.random_weights ? "RANDOM weights" : "real weights"})`);
console.log(`CPU: ${cpus()[0]?.model} × ${availableParallelism()}, onnxruntime intra-op threads ${threads}`);

const peak = await measureMatmulPeak(threads);
console.log(`MatMul peak: ${peak.gflops.toFixed(1)} GFLOP/s (${peak.size}³ in ${peak.ms.toFixed(2)} ms)`);
const decode = [];
for (const batch of [1, 4, 16, 32]) {
  const d = await measureDecode(
    files.graphPaths.gpt_decode,
    files.manifest,
    batch,
    100,
    batch >= 16 ? 20 : 40,
    threads,
  );
  decode.push({ ...d, ofPeak: d.gflops / peak.gflops });
  console.log(
    `decode batch ${batch}: ${d.msPerStep.toFixed(2)} ms/step, ${d.gflops.toFixed(1)} GFLOP/s = ${((100 * d.gflops) / peak.gflops).toFixed(1)} % of peak`,
  );
}

if (values["flops-only"]) process.exit(0);
const modes: { name: string; maxBatch: number }[] = [
  { name: "batching off", maxBatch: 1 },
  { name: "batching on", maxBatch: Number(values["max-batch"]) },
];
const results: Record<string, LevelResult[]> = {};
for (const mode of modes) {
  const node = await startNode([
    "--model",
    modelDir,
    "--max-batch",
    String(mode.maxBatch),
    "--max-queue",
    "256",
    "--max-queue-delay-ms",
    "5",
    "--intra-op-threads",
    String(threads),
    "--request-timeout-ms",
    "600000",
  ]);
  results[mode.name] = [];
  try {
    await runLevel(node.url, 1, 2, payload); // warm-up
    for (const c of levels) {
      const r = await runLevel(node.url, c, Math.max(16, 2 * c), payload);
      results[mode.name]?.push(r);
      console.log(
        `${mode.name.padEnd(13)} c=${String(c).padStart(2)}: ${r.requestsPerSecond.toFixed(2)} req/s, ${r.audioSecondsPerSecond.toFixed(2)} audio s/s, p50 ${r.p50Ms.toFixed(0)} ms, p95 ${r.p95Ms.toFixed(0)} ms, mean GPT batch ${r.meanBatch.toFixed(1)}, failures ${r.failures}`,
      );
    }
  } finally {
    await node.stop();
  }
}

const off = results["batching off"] ?? [];
const on = results["batching on"] ?? [];
const at = (rs: LevelResult[], c: number) => rs.find((r) => r.concurrency === c);
const speedup16 = (at(on, 16)?.audioSecondsPerSecond ?? 0) / (at(off, 16)?.audioSecondsPerSecond ?? Number.NaN);
const decode16 = decode.find((d) => d.batch === 16);
const summary = {
  throughputSpeedupAt16: speedup16,
  p95LowerWithBatchingAt16: (at(on, 16)?.p95Ms ?? Number.POSITIVE_INFINITY) < (at(off, 16)?.p95Ms ?? 0),
  decodeBatch16OfPeak: decode16?.ofPeak ?? 0,
};
const report = {
  date: new Date().toISOString(),
  model: { name: files.manifest.name, size: files.manifest.size, random_weights: files.manifest.random_weights },
  machine: { cpu: cpus()[0]?.model, cores: availableParallelism(), threads },
  payload: { texts: TEXTS, max_tokens: maxTokens },
  matmulPeak: peak,
  decode,
  results,
  summary,
};

const lines = [
  `Model: \`${files.manifest.name}\` (${files.manifest.random_weights ? "**random weights — audio is noise**" : "real weights"}); CPU ${report.machine.cpu} × ${report.machine.cores}; ${threads} intra-op threads.`,
  "",
  "| mode | concurrency | requests | req/s | audio s/s | p50 ms | p95 ms | mean GPT batch | failures |",
  "|---|---|---|---|---|---|---|---|---|",
  ...modes.flatMap((mode) =>
    (results[mode.name] ?? []).map(
      (r) =>
        `| ${mode.name} (max batch ${mode.maxBatch}) | ${r.concurrency} | ${r.requests} | ${r.requestsPerSecond.toFixed(2)} | ${r.audioSecondsPerSecond.toFixed(2)} | ${r.p50Ms.toFixed(0)} | ${r.p95Ms.toFixed(0)} | ${r.meanBatch.toFixed(1)} | ${r.failures} |`,
    ),
  ),
  "",
  `MatMul peak (onnxruntime, ${peak.size}³ float32): **${peak.gflops.toFixed(1)} GFLOP/s**`,
  "",
  "| GPT decode batch | ms/step (cache 100) | GFLOP/s | share of MatMul peak |",
  "|---|---|---|---|",
  ...decode.map(
    (d) => `| ${d.batch} | ${d.msPerStep.toFixed(2)} | ${d.gflops.toFixed(1)} | ${(100 * d.ofPeak).toFixed(1)} % |`,
  ),
  "",
  `Throughput (audio s/s) with batching on vs off at concurrency 16: **${speedup16.toFixed(2)}×**; p95 lower with batching: **${summary.p95LowerWithBatchingAt16}**; decode at batch 16: **${(100 * summary.decodeBatch16OfPeak).toFixed(1)} %** of the MatMul peak.`,
];
mkdirSync(values.out, { recursive: true });
writeFileSync(join(values.out, "gpu-node.json"), JSON.stringify(report, null, 2));
writeFileSync(join(values.out, "gpu-node.md"), `${lines.join("\n")}\n`);
console.log(`\n${lines.join("\n")}\n\nwritten to ${values.out}/gpu-node.{json,md}`);
