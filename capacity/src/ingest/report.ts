/** `npm run capacity -- ingest`: a Locust run (its --csv files) plus a GPU sample log → the same report. */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { costOptions, type Options } from "../config.ts";
import { TOKENS_PER_AUDIO_SECOND } from "../cost/model.ts";
import { ARTICLE_TEXT } from "../payloads/corpus.ts";
import { buildReport } from "../report/build.ts";
import type { Report } from "../report/types.ts";
import { writeReport } from "../report/write.ts";
import { parseGpuLog } from "../telemetry/nvidia.ts";
import type { Telemetry } from "../telemetry/sampler.ts";
import { locustSteps, readLocustCsv } from "./locust.ts";

export function ingestLocust(o: Options): { report: Report; files: string[] } {
  const prefix = o.locustCsv ?? "";
  const run = readLocustCsv(prefix);
  const slo = { metric: o.sloMetric, percentile: o.sloPercentile, boundMs: o.sloMs, maxErrorRate: o.maxErrorRate };
  const steps = locustSteps(run, {
    wavBytesPerSecond: o.wavBytesPerSecond,
    tokensPerSecond: TOKENS_PER_AUDIO_SECOND,
    goodMs: slo.boundMs,
    inputChars: [...ARTICLE_TEXT].length,
  });
  const startedAtMs = run.history[0]?.t ?? steps[0]?.startedAtMs ?? Date.now();
  const endedAtMs = run.history[run.history.length - 1]?.t ?? steps[steps.length - 1]?.endedAtMs ?? startedAtMs;
  const telemetry: Telemetry = { gpuSource: "none: no --gpu-log given", gpu: [], dmon: [], node: [], proxy: [] };
  if (o.gpuLog) {
    const text = readFileSync(o.gpuLog, "utf8");
    const start = o.gpuLogStart ? Date.parse(o.gpuLogStart) : startedAtMs;
    if (!Number.isFinite(start)) throw new Error(`--gpu-log-start: not a date: ${o.gpuLogStart}`);
    const samples = parseGpuLog(text, start);
    const dmon = /^\s*#.*\bgpu\b/m.test(text);
    telemetry.gpuSource = `${o.gpuLog} (${dmon ? "nvidia-smi dmon" : "nvidia-smi --query-gpu CSV"}, ${samples.length} samples)`;
    telemetry.gpu = samples;
    if (dmon) telemetry.dmon = samples;
  }
  const report = buildReport({
    title: `Capacity report from a Locust run (${prefix})`,
    command: `npm run capacity -- ${process.argv.slice(2).join(" ")}`.trim(),
    source: {
      kind: "locust",
      detail: `Locust CSV ${prefix}_stats_history.csv (${run.history.length} rows), ${prefix}_stats.csv, ${prefix}_failures.csv`,
    },
    target: {
      url: "(from the Locust run)",
      endpoint: "locust",
      embedded: false,
      description: "the host Locust was pointed at",
    },
    model: { name: "unknown", randomWeights: null, note: "not known from Locust's CSV (the node's /info says it)" },
    slo,
    startedAtMs,
    endedAtMs,
    loadBefore: [],
    loadAfter: [],
    serialLatencyMs: null,
    steps,
    search: null,
    telemetry,
    cost: costOptions(o),
    notes: [
      "Locust is a closed model: it sends more slowly when the server slows down, so its latencies under saturation are optimistic (coordinated omission).",
      "Locust rounds its percentiles (about two significant digits); counts, rates and mean latencies per level here are exact differences of its cumulative totals.",
      `Audio seconds are derived from Locust's mean response size: (bytes − 44-byte WAV header) ÷ ${o.wavBytesPerSecond} bytes per second.`,
      "Input characters are the article's payload (the locustfile's text); TTFB is not in Locust's CSV.",
    ],
  });
  return { report, files: writeReport(report, resolve(o.out)) };
}
