/**
 * `npm run capacity`: parses the command line and wires the pieces (run.ts measures, report/ renders, cost/
 * prices, ingest/ reads Locust). See `npm run capacity -- --help`.
 */
import { resolve } from "node:path";
import { costOptions, HELP, type Options, parseOptions } from "./config.ts";
import { applyPrices } from "./cost/apply.ts";
import { approxMoney, articleCheck, int, money } from "./cost/format.ts";
import { computeCost } from "./cost/model.ts";
import { buildCostInputs, describeCostInputs } from "./cost/options.ts";
import { ingestLocust } from "./ingest/report.ts";
import type { Length } from "./payloads/corpus.ts";
import type { Profile } from "./payloads/profiles.ts";
import { buildReport, type ModelInfo } from "./report/build.ts";
import { costLines, sec } from "./report/markdown.ts";
import type { Report } from "./report/types.ts";
import { writeReport } from "./report/write.ts";
import { type Phase, type RunConfig, runMeasurement } from "./run.ts";
import { type EmbeddedStack, startEmbeddedStack } from "./stack/embedded.ts";

const out = (line = "") => process.stdout.write(`${line}\n`);

async function modelInfo(nodeUrl: string | undefined): Promise<ModelInfo> {
  if (!nodeUrl)
    return { name: "unknown", randomWeights: null, note: "not known: give --node-url to read the node's /info" };
  try {
    const res = await fetch(`${nodeUrl}/info`, { signal: AbortSignal.timeout(5000) });
    const info = (await res.json()) as {
      model?: { name?: string; size?: string; random_weights?: boolean; warning?: string };
    };
    const m = info.model ?? {};
    return {
      name: `${m.name ?? "unknown"}${m.size ? ` (${m.size})` : ""}`,
      randomWeights: m.random_weights ?? null,
      note: m.random_weights ? `RANDOM weights: ${m.warning ?? "the audio is noise"}` : "real weights",
    };
  } catch (e) {
    return { name: "unknown", randomWeights: null, note: `could not read ${nodeUrl}/info: ${(e as Error).message}` };
  }
}

function runConfig(
  o: Options,
  url: string,
  apiKey: string | undefined,
  nodeUrl: string | undefined,
  metricsToken: string | undefined,
): RunConfig {
  const proxyMetrics = o.proxyMetrics ?? (o.endpoint === "proxy" ? `${url}/metrics` : undefined);
  return {
    url,
    endpoint: o.endpoint,
    ...(apiKey ? { apiKey } : {}),
    ...(nodeUrl ? { nodeMetricsUrl: `${nodeUrl}/metrics` } : {}),
    ...(proxyMetrics ? { proxyMetricsUrl: proxyMetrics } : {}),
    // the proxy's /metrics is behind a bearer token (issue 14 #9)
    ...(metricsToken ? { proxyMetricsToken: metricsToken } : {}),
    payload: o.payload as Profile,
    lengths: o.lengths as Length[],
    phases: o.phases as Phase[],
    warmupRequests: o.warmup,
    ramp: { start: o.rampStart, step: o.rampStep, everyS: o.rampEvery, max: o.rampMax, holdS: o.rampHold },
    wait: [o.wait[0] ?? 1, o.wait[1] ?? 3],
    tableUsers: o.tableUsers,
    tableDurationS: o.tableDuration,
    closed: { users: o.users, spawnRate: o.spawnRate, durationS: o.duration },
    open: { rate: o.rate, rampTo: o.rampTo ?? null, durationS: o.duration },
    arrivals: o.arrivals,
    maxInFlight: o.maxInFlight,
    slo: { metric: o.sloMetric, percentile: o.sloPercentile, boundMs: o.sloMs, maxErrorRate: o.maxErrorRate },
    stability: { windows: o.stabilityWindows, tolerance: o.stabilityTolerance },
    search: {
      model: o.searchModel,
      start: o.searchStart ?? null,
      max: o.searchMax,
      growth: o.searchGrowth,
      precision: o.searchPrecision,
      probeMaxS: o.probeMaxS,
      minPerWindow: o.minPerWindow,
    },
    windowMs: o.windowMs,
    timeoutMs: o.timeoutMs,
    connections: o.connections,
    seed: o.seed,
    telemetryMs: o.telemetryMs,
    logDir: resolve(o.out),
    ...(o.nvidiaSmi ? { nvidiaSmi: o.nvidiaSmi } : {}),
    quiet: o.quiet,
  };
}

function summary(r: Report, files: string[]): void {
  out(`\n${r.title}`);
  out(`  model: ${r.model.name}: ${r.model.note}`);
  out(`  hardware: ${r.hardware.measured}`);
  if (r.capacity) {
    out(
      `  capacity at ${r.sloText}: ${Number(r.capacity.level.toPrecision(4))} ${r.capacity.unit} (${r.capacity.rps.toFixed(2)} ok/s, p95 ${sec(r.capacity.p95Ms)}, goodput ${r.capacity.goodput.toFixed(2)}/s, ${r.capacity.tokensPerSecond.toFixed(1)} tokens/s)`,
    );
  } else out(`  no level met ${r.sloText}`);
  out(`  bottleneck: ${r.bottleneck.verdict}: ${r.bottleneck.reason}`);
  for (const l of costLines(r)) if (l.startsWith("- ")) out(`  ${l.slice(2)}`);
  for (const a of r.applied ?? [])
    out(`  applied ${a.plan}: ${a.status}${a.version ? ` (version ${a.version})` : ""}${a.error ? ` ${a.error}` : ""}`);
  out(`  files: ${files.join(", ")}`);
}

async function commandRun(o: Options): Promise<number> {
  let stack: EmbeddedStack | null = null;
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once("SIGINT", onSignal);
  try {
    let url = o.target;
    let apiKey = o.apiKey;
    let nodeUrl = o.nodeUrl ?? (o.endpoint === "node" ? o.target : undefined);
    let adminUrl = o.adminUrl ?? (o.endpoint === "proxy" ? o.target : undefined);
    let adminToken = o.adminToken;
    let description = `${o.endpoint} at ${o.target}`;
    if (!url) {
      process.stderr.write(
        "no --target: starting the embedded stack (gpu-node with the tiny RANDOM-weight model, proxy)\n",
      );
      stack = await startEmbeddedStack({
        maxBatch: o.maxBatch,
        ...(o.intraOpThreads ? { intraOpThreads: o.intraOpThreads } : {}),
      });
      url = o.endpoint === "node" ? stack.nodeUrl : stack.proxyUrl;
      apiKey ??= stack.apiKey;
      nodeUrl = stack.nodeUrl;
      adminUrl = stack.proxyUrl;
      adminToken ??= stack.adminToken;
      description = stack.description;
    }
    if (o.endpoint === "proxy" && !apiKey) {
      process.stderr.write("a proxy target needs --api-key (or use --endpoint node against a gpu-node)\n");
      return 2;
    }
    const model = await modelInfo(nodeUrl);
    const cfg = runConfig(o, url, apiKey, nodeUrl, process.env.METRICS_TOKEN || adminToken);
    const data = await runMeasurement(cfg, controller.signal);
    const notes = [
      "Latency percentiles are exact to 0.1 % (HDR histograms, 3 significant digits); the open model times each request from its intended send time.",
      ...(stack
        ? [
            "The embedded stack's per-IP rate limit was raised so that one load generator on 127.0.0.1 is not refused; the test customer's plan has limits that never bind.",
          ]
        : []),
      ...(data.interrupted
        ? ["The run was interrupted (Ctrl-C): the report covers what was measured until then."]
        : []),
    ];
    const report = buildReport({
      title: `Capacity report: ${model.name} via ${o.endpoint}`,
      command: `npm run capacity -- ${process.argv.slice(2).join(" ")}`.trim(),
      source: { kind: "generator", detail: "this tool's load generator (undici, HDR histograms)" },
      target: { url, endpoint: o.endpoint, embedded: stack !== null, description },
      model,
      slo: cfg.slo,
      startedAtMs: data.startedAtMs,
      endedAtMs: data.endedAtMs,
      loadBefore: data.loadBefore,
      loadAfter: data.loadAfter,
      serialLatencyMs: data.serialLatencyMs,
      steps: data.steps,
      search: data.search,
      telemetry: data.telemetry,
      cost: costOptions(o),
      notes,
    });
    if (o.apply) {
      if (!report.cost) report.notes.push("--apply: no prices to apply (no cost was computed)");
      else if (!adminUrl || !adminToken) report.notes.push("--apply: needs --admin-url and --admin-token");
      else {
        report.applied = await applyPrices(report.cost, {
          adminUrl,
          adminToken,
          plans: { basic: o.plans[0] ?? "basic", batch: o.plans[1] ?? "batch", enterprise: o.plans[2] ?? "enterprise" },
        });
        if (stack) report.notes.push("--apply wrote to the embedded stack, which is discarded at the end of the run.");
      }
    }
    summary(report, writeReport(report, resolve(o.out)));
    return report.applied?.some((a) => a.status !== 201) ? 1 : 0;
  } finally {
    process.off("SIGINT", onSignal);
    await stack?.stop();
  }
}

function commandCost(o: Options): number {
  const co = costOptions(o);
  const inputs = buildCostInputs(co, { capacityTokensPerSecond: null, measuredWatts: null, peak: null });
  const c = computeCost(inputs);
  const cur = c.currency;
  for (const l of describeCostInputs(co, inputs)) out(l);
  out(
    `cost per day: ≈ ${approxMoney(c.perDay.totalMicros, cur)}/day (${money(c.perDay.totalMicros, cur)}: GPU ${money(c.perDay.gpuMicros, cur)} + power ${money(c.perDay.powerMicros, cur)} + operations ${money(c.perDay.opsMicros, cur)})`,
  );
  out(`tokens per day: ${int(c.tokensPerDay)} (${c.tokensNote})`);
  out(
    `cost: ≈ ${approxMoney(c.cost.per1MTokensMicros, cur)} per million tokens (${money(c.cost.per1MTokensMicros, cur, 4)}); ${money(c.cost.per10kTokensMicros, cur, 4)} per 10k tokens; ${money(c.cost.perAudioMinuteMicros, cur, 4)} per audio minute`,
  );
  out(
    `basic: ${money(c.basic.per1kTokensMicros, cur, 6)} per 1k tokens (${c.basic.per1kTokensMicros} micros), ${money(c.basic.per10kTokensMicros, cur, 4)} per 10k; peak ×${(c.peak.multiplierBp / 10_000).toFixed(2)}: ${c.peak.note}`,
  );
  out(`batch: −${(c.batch.discountBp / 100).toFixed(0)} %: ${money(c.batch.per1kTokensMicros, cur, 6)} per 1k tokens`);
  for (const w of c.warnings) out(`warning: ${w}`);
  out(
    `enterprise: ${money(c.enterprise.monthlyFeeMicros, cur)} a month for a dedicated GPU, ${int(c.enterprise.includedTokens)} tokens included, then ${money(c.enterprise.overagePer1kMicros, cur, 6)} per 1k`,
  );
  out("");
  for (const l of articleCheck().lines) out(l);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const parsed = parseOptions(argv);
  if ("help" in parsed) {
    out(HELP);
    return 0;
  }
  if ("error" in parsed) {
    process.stderr.write(`${parsed.error}\n\n${HELP}\n`);
    return 2;
  }
  const o = parsed.options;
  try {
    if (o.command === "cost") return commandCost(o);
    if (o.command === "ingest") {
      const { report, files } = ingestLocust(o);
      summary(report, files);
      return 0;
    }
    return await commandRun(o);
  } catch (e) {
    process.stderr.write(`capacity: ${(e as Error).message}\n`);
    return 1;
  }
}
