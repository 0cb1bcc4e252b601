/** The report: everything a run measured and derived, as written to report.json (and rendered to MD and HTML). */
import type { Comparison } from "../cost/anchors.ts";
import type { CostResult } from "../cost/model.ts";
import type { StepSummary } from "../load/stats.ts";
import type { SearchResult } from "../search/search.ts";
import type { Slo } from "../search/slo.ts";
import type { BottleneckResult } from "../telemetry/bottleneck.ts";
import type { SpanFigures, Telemetry } from "../telemetry/sampler.ts";

/** One row of the article's table, from measured data. */
export interface ArticleRow {
  users: number;
  avgLatencyMs: number;
  p95LatencyMs: number;
  /** mean input characters per request */
  inputChars: number;
  /** the article's "ms per token": mean latency ÷ input characters */
  msPerInputChar: number;
  /** mean latency ÷ billable tokens (50 per audio second) per request */
  msPerToken: number;
  rps: number;
  errorRate: number;
  /** mean SM %, null without a GPU */
  gpuUtilPercent: number | null;
  /** the gpu-node engine's busy share, % (what stands in for SM % on a CPU) */
  engineBusyPercent: number | null;
}

export interface AppliedPrice {
  plan: string;
  status: number;
  version: number | null;
  body: Record<string, unknown>;
  error?: string;
}

export interface Report {
  title: string;
  generatedAt: string;
  command: string;
  commit: string;
  source: { kind: "generator" | "locust"; detail: string };
  target: { url: string; endpoint: string; embedded: boolean; description: string };
  model: { name: string; randomWeights: boolean | null; note: string };
  hardware: {
    cpu: string;
    cores: number;
    memoryGiB: number;
    gpu: string;
    /** what was measured, in words: "CPU only (no GPU)" or the GPU's name */
    measured: string;
    node: string;
    loadAverage: { before: number[]; after: number[] };
  };
  slo: Slo;
  sloText: string;
  startedAtMs: number;
  endedAtMs: number;
  serialLatencyMs: number | null;
  steps: StepSummary[];
  articleTable: ArticleRow[];
  search: SearchResult | null;
  capacity: {
    level: number;
    unit: string;
    rps: number;
    tokensPerSecond: number;
    audioSecondsPerSecond: number;
    goodput: number;
    p95Ms: number;
    figures: SpanFigures | null;
  } | null;
  peakOffPeak: { peakLoad: string; peakMsPerToken: number; offPeakLoad: string; offPeakMsPerToken: number } | null;
  telemetry: Telemetry;
  bottleneck: BottleneckResult;
  cost: CostResult | null;
  costInputs: string[];
  articleCheck: string[];
  comparison: Comparison | null;
  applied: AppliedPrice[] | null;
  notes: string[];
}
