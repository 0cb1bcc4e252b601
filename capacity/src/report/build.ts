/**
 * Turns what a run (or a Locust ingest) measured into the report: the article's table, the capacity and knee,
 * the bottleneck verdict, the cost and prices from the measured capacity, and the public price comparison.
 */
import { execFileSync } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { compareWithAnchors } from "../cost/anchors.ts";
import { articleCheck } from "../cost/format.ts";
import { type CostResult, computeCost } from "../cost/model.ts";
import { buildCostInputs, type CostOptions, describeCostInputs, usdRateOf } from "../cost/options.ts";
import type { StepSummary } from "../load/stats.ts";
import type { RunData } from "../run.ts";
import { evaluateSlo, type Slo, sloText } from "../search/slo.ts";
import { classifyBottleneck } from "../telemetry/bottleneck.ts";
import { type SpanFigures, spanFigures, type Telemetry } from "../telemetry/sampler.ts";
import type { ArticleRow, Report } from "./types.ts";

export interface ModelInfo {
  name: string;
  randomWeights: boolean | null;
  note: string;
}

export interface BuildInput extends Omit<RunData, "interrupted"> {
  title: string;
  command: string;
  source: Report["source"];
  target: Report["target"];
  model: ModelInfo;
  slo: Slo;
  cost: CostOptions;
  notes: string[];
}

export function gitCommit(cwd: string = process.cwd()): string {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd, stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
    const dirty =
      execFileSync("git", ["status", "--porcelain"], { cwd, stdio: ["ignore", "pipe", "ignore"] })
        .toString()
        .trim() !== "";
    return dirty ? `${head} + uncommitted changes` : head;
  } catch {
    return "unknown";
  }
}

const figuresOf = (t: Telemetry, s: StepSummary) => spanFigures(t, s.startedAtMs, s.endedAtMs);

function articleRows(steps: StepSummary[], t: Telemetry): ArticleRow[] {
  return steps
    .filter((s) => s.unit === "users" && (s.phase === "table" || s.phase === "locust"))
    .map((s) => {
      const f = figuresOf(t, s);
      return {
        users: s.load,
        avgLatencyMs: s.latency.mean,
        p95LatencyMs: s.latency.p95,
        inputChars: s.inputCharsPerRequest,
        msPerInputChar: s.msPerInputChar,
        msPerToken: s.msPerToken,
        rps: s.rps,
        errorRate: s.errorRate,
        gpuUtilPercent: f.smPercent,
        engineBusyPercent: f.engineBusy === null ? null : f.engineBusy * 100,
      };
    });
}

/** The capacity: the search's when there was one, else the highest passing table/locust level. */
function capacityStep(input: BuildInput): { step: StepSummary; level: number } | null {
  if (input.search)
    return input.search.atCapacity ? { step: input.search.atCapacity.step, level: input.search.capacity } : null;
  const passing = input.steps
    .filter((s) => (s.phase === "table" || s.phase === "locust") && evaluateSlo(s, input.slo).pass)
    .sort((a, b) => b.load - a.load);
  const best = passing[0];
  return best ? { step: best, level: best.load } : null;
}

/** Off-peak and peak per-token time: the lightest passing level and the capacity level. */
function peakOffPeak(input: BuildInput, cap: StepSummary | null): Report["peakOffPeak"] {
  if (!cap || cap.msPerToken <= 0) return null;
  const candidates = (input.search ? input.search.probes.filter((p) => p.pass).map((p) => p.step) : input.steps)
    .filter((s) => s.msPerToken > 0 && s.ok > 0 && s.phase !== "ramp")
    .sort((a, b) => a.load - b.load);
  const off = candidates[0];
  if (!off || off === cap) return null;
  const label = (s: StepSummary) => `${Number(s.load.toPrecision(4))} ${s.unit}`;
  return {
    peakLoad: label(cap),
    peakMsPerToken: cap.msPerToken,
    offPeakLoad: label(off),
    offPeakMsPerToken: off.msPerToken,
  };
}

function hardware(input: BuildInput, gpuName: string | null): Report["hardware"] {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model.trim() ?? "unknown",
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    gpu: gpuName ?? input.telemetry.gpuSource,
    measured: gpuName
      ? `GPU: ${gpuName}`
      : "CPU only: no GPU was measured (the gpu-node ran onnxruntime on the CPU cores listed here)",
    node: process.version,
    loadAverage: { before: input.loadBefore, after: input.loadAfter },
  };
}

export function buildReport(input: BuildInput): Report {
  const t = input.telemetry;
  const gpuName = t.gpu.find((s) => s.name)?.name ?? (t.gpu.length > 0 ? `GPU ${t.gpu[0]?.index}` : null);
  const cap = capacityStep(input);
  const capFigures: SpanFigures | null = cap ? figuresOf(t, cap.step) : null;
  const fail = input.search?.probes.find((p) => p.level === input.search?.firstFail);
  const bottleneck = fail
    ? classifyBottleneck(figuresOf(t, fail.step), true)
    : classifyBottleneck(capFigures ?? spanFigures(t, input.startedAtMs, input.endedAtMs), false);
  const pop = peakOffPeak(input, cap?.step ?? null);

  let cost: CostResult | null = null;
  const costNotes: string[] = [];
  // The energy counter over the capacity step is exact; the mean of power samples is the fallback.
  const capSeconds = cap ? (cap.step.endedAtMs - cap.step.startedAtMs) / 1000 : 0;
  const measuredWatts =
    capFigures?.energyJoules !== null && capFigures?.energyJoules !== undefined && capSeconds > 0
      ? capFigures.energyJoules / capSeconds
      : (capFigures?.powerWatts ?? null);
  try {
    const inputs = buildCostInputs(input.cost, {
      capacityTokensPerSecond: cap?.step.tokensPerSecond ?? null,
      measuredWatts,
      peak: pop,
    });
    cost = computeCost(inputs);
    costNotes.push(...describeCostInputs(input.cost, inputs));
  } catch (e) {
    costNotes.push(`no cost computed: ${(e as Error).message}`);
  }
  const fx = usdRateOf(input.cost);
  const comparison =
    cost && fx ? compareWithAnchors(cost.basic.perAudioMinuteMicros, cost.cost.perAudioMinuteMicros, fx.rate) : null;
  if (cost && !fx) costNotes.push(`no comparison with public (USD) prices: give --usd-rate (${cost.currency} per USD)`);
  if (fx?.assumed)
    costNotes.push(`the comparison converts at an ASSUMED ${fx.rate} ${cost?.currency} per USD (give --usd-rate)`);

  return {
    title: input.title,
    generatedAt: new Date().toISOString(),
    command: input.command,
    commit: gitCommit(),
    source: input.source,
    target: input.target,
    model: input.model,
    hardware: hardware(input, gpuName),
    slo: input.slo,
    sloText: sloText(input.slo),
    startedAtMs: input.startedAtMs,
    endedAtMs: input.endedAtMs,
    serialLatencyMs: input.serialLatencyMs,
    steps: input.steps,
    articleTable: articleRows(input.steps, t),
    search: input.search,
    capacity: cap
      ? {
          level: cap.level,
          unit: cap.step.unit,
          rps: cap.step.rps,
          tokensPerSecond: cap.step.tokensPerSecond,
          audioSecondsPerSecond: cap.step.audioSecondsPerSecond,
          goodput: cap.step.goodput,
          p95Ms: cap.step.latency.p95,
          figures: capFigures,
        }
      : null,
    peakOffPeak: pop,
    telemetry: t,
    bottleneck,
    cost,
    costInputs: costNotes,
    articleCheck: articleCheck().lines,
    comparison,
    applied: null,
    notes: input.notes,
  };
}
