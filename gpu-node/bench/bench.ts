/**
 * npm run bench:gpu-node — batching off vs on at concurrency 1/4/8/16/32 on the `small` random-weight model, and
 * the GPT decode's FLOP/s against onnxruntime's own MatMul peak, in one run. Writes bench-out/gpu-node.{json,md}.
 *
 * Both nodes (max batch 1 and max batch N) run side by side and every concurrency level is measured on one right
 * after the other, so a change in the load of a shared machine hits both sides of a ratio alike.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { readModelDir } from "../src/adapters/model-dir.ts";
import { generateModel } from "../tools/python.ts";
import {
  type DecodeMeasurement,
  MatmulProbe,
  measureDecode,
  measureMatmulPeak,
  type PeakMeasurement,
} from "./flops.ts";
import { type LevelResult, runLevel, stageSeconds, startNode } from "./load.ts";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "gpu-node/models/small" },
    size: { type: "string", default: "small" },
    levels: { type: "string", default: "1,4,8,16,32" },
    "max-batch": { type: "string", default: "32" },
    // requests per level: max(16, rounds × concurrency)
    rounds: { type: "string", default: "2" },
    // unset: every request is as long as the model says (random weights: semantic_tokens_per_text_token per text
    // token, i.e. realistic durations of 2.4–3.4 s for these texts); a number caps every request (shorter audio)
    "max-tokens": { type: "string" },
    threads: { type: "string", default: String(availableParallelism()) },
    out: { type: "string", default: "bench-out" },
    "flops-only": { type: "boolean" },
    help: { type: "boolean" },
  },
});
if (values.help) {
  console.log(
    `usage: npm run bench:gpu-node -- [--model DIR] [--size small] [--levels 1,4,8,16,32] [--max-batch 32] [--rounds 2]
       [--max-tokens N] [--threads N] [--out bench-out] [--flops-only]
The small model is generated into --model on first use (a few minutes; needs a Python with torch and onnx, found
as gpu-node/tools/python.ts says: $GPU_NODE_PYTHON, .tools/gpu-node-python, /usr/bin/python3):
  npm run model:generate -- --size small --out gpu-node/models/small`,
  );
  process.exit(0);
}
const modelDir = values.model;
if (!existsSync(join(modelDir, "manifest.json"))) {
  generateModel(values.size, modelDir);
}
const files = await readModelDir(modelDir);
const levels = values.levels.split(",").map(Number);
const threads = Number(values.threads);
const maxTokens = values["max-tokens"] === undefined ? undefined : Number(values["max-tokens"]);
const maxBatch = Number(values["max-batch"]);
const rounds = Number(values.rounds);
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
  ...(maxTokens !== undefined ? { max_tokens: maxTokens } : {}),
});
const load = () => loadavg().map((l) => Number(l.toFixed(2)));
const loadAtStart = load();

console.log(`model ${files.manifest.name} (${files.manifest.random_weights ? "RANDOM weights" : "real weights"})`);
console.log(`CPU: ${cpus()[0]?.model} × ${availableParallelism()}, onnxruntime intra-op threads ${threads}`);
console.log(`load average: ${loadAtStart.join(", ")}`);

// The peak: a scan over sizes before and after the decode runs, plus a probe at the best size timed right before and
// after every decode run (so both see the same load of a shared machine). The roofline is the fastest call of all.
const peaks: PeakMeasurement[] = [await measureMatmulPeak(threads)];
const probe = await MatmulProbe.create(threads, peaks[0]?.size ?? 1024);
const decodeRuns: DecodeMeasurement[] = [];
for (const batch of [1, 4, 16, 32]) {
  const steps = batch >= 16 ? 20 : 40;
  decodeRuns.push(await measureDecode(files.graphPaths.gpt_decode, files.manifest, batch, 100, steps, threads, probe));
}
await probe.release();
peaks.push(await measureMatmulPeak(threads));
const scanned = peaks.reduce((a, b) => (b.gflops > a.gflops ? b : a));
const probedBest = Math.max(...decodeRuns.map((d) => d.probe?.gflopsBest ?? 0));
const peak =
  probedBest > scanned.gflops
    ? { ...scanned, gflops: probedBest, size: probe.size, ms: (2 * probe.size ** 3) / probedBest / 1e6 }
    : scanned;
console.log(`MatMul peak: ${peak.gflops.toFixed(1)} GFLOP/s (${peak.size}³, fastest call ${peak.ms.toFixed(2)} ms)`);
// share of peak: fastest step vs the fastest MatMul call of the whole run (the strict roofline); and median step vs
// the median of the MatMul calls timed right around those very steps (the load-robust comparison)
const decode = decodeRuns.map((d) => ({
  ...d,
  ofPeak: d.gflopsBest / peak.gflops,
  ofPeakMedian: d.gflops / (d.probe?.gflopsMedian ?? Number.NaN),
}));
for (const d of decode) {
  console.log(
    `decode batch ${d.batch}: fastest ${d.msPerStepBest.toFixed(2)} ms/step = ${d.gflopsBest.toFixed(1)} GFLOP/s = ${(100 * d.ofPeak).toFixed(1)} % of peak; median ${d.msPerStep.toFixed(2)} ms = ${d.gflops.toFixed(1)} GFLOP/s = ${(100 * d.ofPeakMedian).toFixed(1)} % of the MatMul median around it (${d.probe?.gflopsMedian.toFixed(1)} GFLOP/s)`,
  );
}

const modes = [
  { name: "batching off", maxBatch: 1 },
  { name: "batching on", maxBatch },
];
const results: Record<string, LevelResult[]> = { "batching off": [], "batching on": [] };
const levelLoad: { concurrency: number; load: number[] }[] = [];
const stages: Record<string, Record<string, number>> = {};
if (!values["flops-only"]) {
  const nodes = await Promise.all(
    modes.map((mode) =>
      startNode([
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
      ]),
    ),
  );
  // an interrupted bench must not leave its nodes running
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      for (const n of nodes) n.child.kill("SIGKILL");
      process.exit(130);
    });
  }
  try {
    for (const node of nodes) await runLevel(node.url, 1, 2, payload); // warm-up
    for (const c of levels) {
      levelLoad.push({ concurrency: c, load: load() });
      for (const [i, mode] of modes.entries()) {
        const node = nodes[i];
        if (!node) continue;
        const r = await runLevel(node.url, c, Math.max(16, rounds * c), payload, node.child.pid);
        results[mode.name]?.push(r);
        console.log(
          `${mode.name.padEnd(13)} c=${String(c).padStart(2)}: ${r.requestsPerSecond.toFixed(2)} req/s, ${r.audioSecondsPerSecond.toFixed(2)} audio s/s, p50 ${r.p50Ms.toFixed(0)} ms, p95 ${r.p95Ms.toFixed(0)} ms, mean GPT batch ${r.meanBatch.toFixed(1)}, failures ${r.failures}, ${r.audioSecondsPerCpuSecond?.toFixed(3) ?? "?"} audio s per node CPU s`,
        );
      }
    }
    for (const [i, mode] of modes.entries()) {
      const node = nodes[i];
      if (node) stages[mode.name] = await stageSeconds(node.url);
    }
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
}
const loadAtEnd = load();

const off = results["batching off"] ?? [];
const on = results["batching on"] ?? [];
const at = (rs: LevelResult[], c: number) => rs.find((r) => r.concurrency === c);
const speedup16 = (at(on, 16)?.audioSecondsPerSecond ?? 0) / (at(off, 16)?.audioSecondsPerSecond ?? Number.NaN);
const cpuSpeedup16 =
  (at(on, 16)?.audioSecondsPerCpuSecond ?? 0) / (at(off, 16)?.audioSecondsPerCpuSecond ?? Number.NaN);
const decode16 = decode.find((d) => d.batch === 16);
const summary = {
  throughputSpeedupAt16: speedup16,
  cpuThroughputSpeedupAt16: cpuSpeedup16,
  p95LowerWithBatchingAt16: (at(on, 16)?.p95Ms ?? Number.POSITIVE_INFINITY) < (at(off, 16)?.p95Ms ?? 0),
  decodeBatch16OfPeak: decode16?.ofPeak ?? 0,
  decodeBatch16OfPeakMedian: decode16?.ofPeakMedian ?? 0,
  targets: {
    throughputSpeedupAt16: speedup16 >= 4,
    p95LowerWithBatchingAt16: (at(on, 16)?.p95Ms ?? Number.POSITIVE_INFINITY) < (at(off, 16)?.p95Ms ?? 0),
    decodeBatch16OfPeak: (decode16?.ofPeak ?? 0) >= 0.5,
  },
};
// Both nodes served the very same requests, so a stage's seconds off / on is its own batching gain. Stages that
// do not gain (compute-bound convolutions on a CPU) bound the whole: Amdahl's ceiling with only the GPT batching.
const stageGain = Object.entries(stages["batching off"] ?? {}).map(([stage, offSec]) => ({
  stage,
  gain: offSec / (stages["batching on"]?.[stage] ?? Number.NaN),
}));
const offTotal = Object.values(stages["batching off"] ?? {}).reduce((a, b) => a + b, 0);
const gptOff = (stages["batching off"]?.decode ?? 0) + (stages["batching off"]?.prefill ?? 0);
const amdahlGptOnly = offTotal / (offTotal - gptOff);
const report = {
  date: new Date().toISOString(),
  command: `npm run bench:gpu-node -- ${process.argv.slice(2).join(" ")}`.trim(),
  model: { name: files.manifest.name, size: files.manifest.size, random_weights: files.manifest.random_weights },
  machine: { cpu: cpus()[0]?.model, cores: availableParallelism(), threads, loadAtStart, loadAtEnd, levelLoad },
  payload: { texts: TEXTS, max_tokens: maxTokens ?? "model length (semantic_tokens_per_text_token)" },
  matmulPeak: { ...peak, scans: peaks },
  decode,
  results,
  stageSeconds: stages,
  stageGain,
  amdahlGptOnly,
  summary,
};

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const stageTable = (name: string) => {
  const s = stages[name] ?? {};
  const total = Object.values(s).reduce((a, b) => a + b, 0);
  return Object.entries(s)
    .map(([stage, sec]) => `${stage} ${pct(sec / total)}`)
    .join(", ");
};
const lines = [
  `Model: \`${files.manifest.name}\` (${files.manifest.random_weights ? "**random weights — audio is noise**" : "real weights"}); CPU ${report.machine.cpu} × ${report.machine.cores}; ${threads} intra-op threads; load average ${loadAtStart.join(", ")} at the start, ${loadAtEnd.join(", ")} at the end. Request length: ${maxTokens === undefined ? "the model's own (random weights: semantic_tokens_per_text_token)" : `capped at ${maxTokens} semantic tokens`}.`,
  "",
  "| mode | concurrency | requests | req/s | audio s/s | p50 ms | p95 ms | mean GPT batch | failures | audio s per node CPU s | load (1 min) |",
  "|---|---|---|---|---|---|---|---|---|---|---|",
  ...levels.flatMap((c) =>
    modes.map((mode) => {
      const r = at(results[mode.name] ?? [], c);
      const l = levelLoad.find((x) => x.concurrency === c)?.load[0] ?? Number.NaN;
      return r
        ? `| ${mode.name} (max batch ${mode.maxBatch}) | ${c} | ${r.requests} | ${r.requestsPerSecond.toFixed(2)} | ${r.audioSecondsPerSecond.toFixed(2)} | ${r.p50Ms.toFixed(0)} | ${r.p95Ms.toFixed(0)} | ${r.meanBatch.toFixed(1)} | ${r.failures} | ${r.audioSecondsPerCpuSecond?.toFixed(3) ?? "?"} | ${l} |`
        : "";
    }),
  ),
  "",
  ...(values["flops-only"]
    ? []
    : [
        `Graph time by stage, batching off: ${stageTable("batching off")}.`,
        `Graph time by stage, batching on: ${stageTable("batching on")}.`,
        `Gain per stage (the same requests on both nodes: seconds off / seconds on): ${stageGain.map((g) => `${g.stage} ${g.gain.toFixed(2)}×`).join(", ")}. If only the GPT gained from batching, and infinitely, the whole could gain at most **${amdahlGptOnly.toFixed(2)}×** (Amdahl, from the batching-off shares).`,
        "",
      ]),
  `MatMul peak (onnxruntime, ${peak.size}³ float32, fastest call of the run): **${peak.gflops.toFixed(1)} GFLOP/s**`,
  "",
  "| GPT decode batch | fastest ms/step | GFLOP/s | share of peak | median ms/step | GFLOP/s | MatMul median alongside | share |",
  "|---|---|---|---|---|---|---|---|",
  ...decode.map(
    (d) =>
      `| ${d.batch} | ${d.msPerStepBest.toFixed(2)} | ${d.gflopsBest.toFixed(1)} | ${pct(d.ofPeak)} | ${d.msPerStep.toFixed(2)} | ${d.gflops.toFixed(1)} | ${d.probe?.gflopsMedian.toFixed(1)} | ${pct(d.ofPeakMedian)} |`,
  ),
  "",
  `Throughput (audio s/s) with batching on vs off at concurrency 16: **${speedup16.toFixed(2)}×** (target ≥ 4×; per node CPU second ${cpuSpeedup16.toFixed(2)}×); p95 lower with batching: **${summary.p95LowerWithBatchingAt16}**; decode at batch 16: **${pct(summary.decodeBatch16OfPeak)}** of the MatMul peak (fastest step vs fastest MatMul call; target ≥ 50 %), ${pct(summary.decodeBatch16OfPeakMedian)} median step vs the median MatMul call around it.`,
];
mkdirSync(values.out, { recursive: true });
writeFileSync(join(values.out, "gpu-node.json"), JSON.stringify(report, null, 2));
writeFileSync(
  join(values.out, "gpu-node.md"),
  `${lines.filter((l, i, a) => l !== "" || a[i - 1] !== "").join("\n")}\n`,
);
console.log(`\n${lines.join("\n")}\n\nwritten to ${values.out}/gpu-node.{json,md}`);
