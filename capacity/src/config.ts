/** Command-line options of `npm run capacity`: one table of flags, parsed with node:util and checked with zod. */
import { parseArgs } from "node:util";
import { z } from "zod";
import type { CostOptions } from "./cost/options.ts";
import { LENGTHS, PROFILES } from "./payloads/profiles.ts";
import { PHASES } from "./run.ts";

export const HELP = `capacity: load test, GPU monitoring, capacity search, and the cost and price report

usage:
  npm run capacity -- [--target URL] [--api-key KEY] [options]     measure a stack (no --target: start the embedded one)
  npm run capacity -- cost --gpu-price P --lifetime-years Y ...     the cost model alone, no load test
  npm run capacity -- ingest --locust-csv PREFIX [--gpu-log FILE]  a report from Locust's --csv output
  npm run capacity -- --help

target
  --target URL            a running proxy (POST /v1/tts) or gpu-node (POST /synthesize, with --endpoint node)
  --api-key KEY           the proxy API key (Authorization: Bearer)
  --endpoint proxy|node   what --target is (default proxy)
  --node-url URL          the gpu-node behind it, for /info (model, random weights) and /metrics
  --proxy-metrics URL     the proxy's /metrics (default TARGET/metrics for a proxy; read with METRICS_TOKEN from the env, else --admin-token)
  --max-batch N, --intra-op-threads N   settings of the embedded gpu-node
phases (run in this order; default ramp,table,search)
  --phases LIST           ramp,table,closed,open,search
  --ramp-start 10 --ramp-step 2 --ramp-every 1 --ramp-max 50 --ramp-hold 10   the article's ramp (closed model)
  --wait A,B              Locust wait_time = between(A, B) seconds (default 1,3)
  --table-users 5,20,40 --table-duration 20   fixed user levels for the article's table
  --users N --spawn-rate R --duration S       the closed phase
  --rate R [--ramp-to R2] --duration S       the open phase (constant, or ramping from R to R2)
  --arrivals uniform|poisson                 arrival process of the open phase and the search (default uniform)
  --max-in-flight N       open model: arrivals beyond N outstanding are dropped and counted (default 512)
payloads
  --payload article|corpus|zh|en|mixed   the article's payload, or the repo's corpus (default article)
  --lengths short,medium,long
SLO and search
  --slo-percentile 95 --slo-ms 3000 --slo-metric latency|ttfb --max-error-rate 0.01
  --search-model open|closed  --search-start N (default: 1 / serial latency) --search-max N (default 1000)
  --search-growth 2 --search-precision 0.05 --probe-max-s 40 --min-per-window 10
  --stability-windows 3 --stability-tolerance 0.1
cost and prices (defaults: the article's RTX 3090, ¥12,000 over 3 years, ¥3/day of power)
  --currency CNY|USD|...  --gpu-price P  --lifetime-years Y  --power-cost-per-day C
  --gpu-watts W (nameplate)  --kwh-price C  --pue 1.0  --ops-cost-per-day C
  --tokens-per-day N (instead of the measured capacity)  --target-utilisation 0.5  --margin 0.5
  --batch-discount 0.35 (≥ 0.30)  --peak-multiplier X | --peak-ms-per-token A --offpeak-ms-per-token B
  --usd-rate R            units of the currency per USD, for the public price comparison
apply
  --apply                 write the prices as new price versions (admin API, integer micro-units)
  --admin-url URL --admin-token T --plans basic,batch,enterprise
ingest
  --locust-csv PREFIX     Locust's --csv prefix (PREFIX_stats.csv, PREFIX_stats_history.csv; a distributed run's master)
  --gpu-log FILE          nvidia-smi dmon -s u [-o T] output or --query-gpu=timestamp,... CSV
  --gpu-log-start ISO     when an untimed dmon log started (default: the Locust run's start)
  --wav-bytes-per-second 44100   to turn Locust's response sizes into audio seconds (16-bit mono 22,050 Hz)
output
  --out DIR (default bench-out/capacity)  --window-ms 1000  --telemetry-ms 1000  --timeout-ms 120000
  --connections 256  --seed 1  --warmup 3  --quiet  --nvidia-smi PATH (the nvidia-smi to run)

Every run ends by itself: phases have durations and the search has a maximum level and probe time.`;

const FLAGS = [
  "target",
  "api-key",
  "endpoint",
  "node-url",
  "proxy-metrics",
  "max-batch",
  "intra-op-threads",
  "phases",
  "ramp-start",
  "ramp-step",
  "ramp-every",
  "ramp-max",
  "ramp-hold",
  "wait",
  "table-users",
  "table-duration",
  "users",
  "spawn-rate",
  "duration",
  "rate",
  "ramp-to",
  "arrivals",
  "max-in-flight",
  "payload",
  "lengths",
  "slo-percentile",
  "slo-ms",
  "slo-metric",
  "max-error-rate",
  "search-model",
  "search-start",
  "search-max",
  "search-growth",
  "search-precision",
  "probe-max-s",
  "min-per-window",
  "stability-windows",
  "stability-tolerance",
  "currency",
  "gpu-price",
  "lifetime-years",
  "power-cost-per-day",
  "gpu-watts",
  "kwh-price",
  "pue",
  "ops-cost-per-day",
  "tokens-per-day",
  "target-utilisation",
  "margin",
  "batch-discount",
  "peak-multiplier",
  "peak-ms-per-token",
  "offpeak-ms-per-token",
  "usd-rate",
  "admin-url",
  "admin-token",
  "plans",
  "locust-csv",
  "gpu-log",
  "gpu-log-start",
  "wav-bytes-per-second",
  "out",
  "window-ms",
  "telemetry-ms",
  "timeout-ms",
  "connections",
  "seed",
  "warmup",
  "nvidia-smi",
] as const;
const BOOLEANS = ["help", "apply", "quiet"] as const;

const num = (min = 0) => z.coerce.number().min(min);
const int = (min = 0) => z.coerce.number().int().min(min);
const list = <T extends z.ZodType>(item: T) =>
  z.string().transform((s, ctx) => {
    const parts = s
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean);
    const parsed = z.array(item).safeParse(parts);
    if (!parsed.success) {
      ctx.addIssue({ code: "custom", message: `bad list "${s}"` });
      return z.NEVER;
    }
    return parsed.data as z.infer<T>[];
  });
const decimal = z.string().regex(/^\d+(\.\d+)?([eE][+-]?\d+)?$/, "a non-negative decimal number");
const url = z.string().url();

export const optionsSchema = z.object({
  command: z.enum(["run", "cost", "ingest"]),
  target: url.optional(),
  apiKey: z.string().min(1).optional(),
  endpoint: z.enum(["proxy", "node"]).default("proxy"),
  nodeUrl: url.optional(),
  proxyMetrics: url.optional(),
  maxBatch: int(1).default(16),
  intraOpThreads: int(1).optional(),
  phases: list(z.enum(PHASES as unknown as [string, ...string[]])).default(["ramp", "table", "search"]),
  rampStart: int(1).default(10),
  rampStep: int(0).default(2),
  rampEvery: num(0.1).default(1),
  rampMax: int(1).default(50),
  rampHold: num(0).default(10),
  wait: list(num(0)).default([1, 3]),
  tableUsers: list(int(1)).default([5, 20, 40]),
  tableDuration: num(1).default(20),
  users: int(1).default(10),
  spawnRate: num(0.01).default(10),
  duration: num(0.1).default(30),
  rate: num(0.001).default(1),
  rampTo: num(0).optional(),
  arrivals: z.enum(["uniform", "poisson"]).default("uniform"),
  maxInFlight: int(1).default(512),
  payload: z.enum(PROFILES as unknown as [string, ...string[]]).default("article"),
  lengths: list(z.enum(LENGTHS as unknown as [string, ...string[]])).default([...LENGTHS]),
  sloPercentile: z.coerce
    .number()
    .pipe(z.union([z.literal(50), z.literal(95), z.literal(99)]))
    .default(95),
  sloMs: num(1).default(3000),
  sloMetric: z.enum(["latency", "ttfb"]).default("latency"),
  maxErrorRate: num(0).max(1).default(0.01),
  searchModel: z.enum(["open", "closed"]).default("open"),
  searchStart: num(0.001).optional(),
  searchMax: num(0.001).default(1000),
  searchGrowth: num(1.1).default(2),
  searchPrecision: num(0.001).max(0.5).default(0.05),
  probeMaxS: num(1).default(40),
  minPerWindow: int(1).default(10),
  stabilityWindows: int(2).default(3),
  stabilityTolerance: num(0.001).default(0.1),
  currency: z
    .string()
    .regex(/^[A-Za-z]{3}$/)
    .optional(),
  gpuPrice: decimal.optional(),
  lifetimeYears: decimal.default("3"),
  powerCostPerDay: decimal.optional(),
  gpuWatts: decimal.optional(),
  kwhPrice: decimal.optional(),
  pue: decimal.default("1"),
  opsCostPerDay: decimal.default("0"),
  tokensPerDay: decimal.optional(),
  targetUtilisation: decimal.default("0.5"),
  margin: decimal.default("0.5"),
  batchDiscount: decimal.default("0.35"),
  peakMultiplier: decimal.optional(),
  peakMsPerToken: decimal.optional(),
  offpeakMsPerToken: decimal.optional(),
  usdRate: decimal.optional(),
  apply: z.boolean().default(false),
  adminUrl: url.optional(),
  adminToken: z.string().min(1).optional(),
  plans: list(z.string().min(1)).default(["basic", "batch", "enterprise"]),
  locustCsv: z.string().min(1).optional(),
  gpuLog: z.string().min(1).optional(),
  gpuLogStart: z.string().optional(),
  wavBytesPerSecond: num(1).default(44_100),
  out: z.string().default("bench-out/capacity"),
  windowMs: int(100).default(1000),
  telemetryMs: int(100).default(1000),
  timeoutMs: int(100).default(120_000),
  connections: int(1).default(256),
  seed: int(0).default(1),
  warmup: int(0).default(3),
  nvidiaSmi: z.string().optional(),
  quiet: z.boolean().default(false),
});

export type Options = z.infer<typeof optionsSchema>;

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** argv → options, or `{ help }` / `{ error }` (with the message to print). */
export function parseOptions(argv: string[]): { options: Options } | { help: true } | { error: string } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: Object.fromEntries([
        ...FLAGS.map((f) => [f, { type: "string" as const }]),
        ...BOOLEANS.map((f) => [f, { type: "boolean" as const }]),
      ]),
    });
  } catch (e) {
    return { error: (e as Error).message };
  }
  if (parsed.values.help) return { help: true };
  const [command = "run", ...rest] = parsed.positionals;
  if (rest.length > 0) return { error: `unexpected arguments: ${rest.join(" ")}` };
  const raw: Record<string, unknown> = { command };
  for (const [k, v] of Object.entries(parsed.values)) raw[camel(k)] = v;
  const r = optionsSchema.safeParse(raw);
  if (!r.success) return { error: z.prettifyError(r.error) };
  const o = r.data;
  if (o.wait.length !== 2 || (o.wait[0] ?? 0) > (o.wait[1] ?? 0)) return { error: "--wait takes A,B with A ≤ B" };
  if (o.command === "ingest" && !o.locustCsv) return { error: "ingest needs --locust-csv PREFIX" };
  return { options: o };
}

export function costOptions(o: Options): CostOptions {
  const opt = <K extends string>(k: K, v: string | undefined) => (v === undefined ? {} : { [k]: v });
  return {
    lifetimeYears: o.lifetimeYears,
    pue: o.pue,
    opsCostPerDay: o.opsCostPerDay,
    targetUtilisation: o.targetUtilisation,
    margin: o.margin,
    batchDiscount: o.batchDiscount,
    ...opt("usdRate", o.usdRate),
    ...opt("currency", o.currency),
    ...opt("gpuPrice", o.gpuPrice),
    ...opt("powerCostPerDay", o.powerCostPerDay),
    ...opt("gpuWatts", o.gpuWatts),
    ...opt("kwhPrice", o.kwhPrice),
    ...opt("tokensPerDay", o.tokensPerDay),
    ...opt("peakMultiplier", o.peakMultiplier),
    ...opt("peakMsPerToken", o.peakMsPerToken),
    ...opt("offPeakMsPerToken", o.offpeakMsPerToken),
  };
}
