/** The report as Markdown (the HTML page shows the same tables plus charts). */
import { approxMoney, int, money } from "../cost/format.ts";
import type { StepSummary } from "../load/stats.ts";
import type { Report } from "./types.ts";

export const sec = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 2 : 0)} ms`);
const pct = (x: number | null, digits = 0) => (x === null ? "n/a" : `${x.toFixed(digits)} %`);
const num = (x: number, d = 2) => x.toFixed(d);

export function table(head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map((c) => String(c).replace(/\|/g, "\\|")).join(" | ")} |`;
  return [line(head), `|${head.map(() => "---").join("|")}|`, ...rows.map(line)].join("\n");
}

export function stepRows(steps: StepSummary[]): (string | number)[][] {
  return steps.map((s) => [
    s.phase,
    s.step,
    `${Number(s.load.toPrecision(4))} ${s.unit}`,
    num(s.durationS, 1),
    s.ok,
    num(s.rps),
    sec(s.latency.p50),
    sec(s.latency.p95),
    sec(s.latency.p99),
    sec(s.ttfb.p95),
    `${s.failures.total} (429: ${s.failures.http429}, 5xx: ${s.failures.http5xx}, 4xx: ${s.failures.http4xx}, net: ${s.failures.transport}, drop: ${s.failures.dropped})`,
    num(s.audioSecondsPerSecond),
    num(s.rtf.p50),
    num(s.goodput),
  ]);
}
export const STEP_HEAD = [
  "phase",
  "step",
  "load",
  "s",
  "ok",
  "ok/s",
  "p50",
  "p95",
  "p99",
  "TTFB p95",
  "failures",
  "audio s/s",
  "RTF p50",
  "goodput/s",
];

export function articleTableRows(r: Report): (string | number)[][] {
  return r.articleTable.map((a) => [
    a.users,
    sec(a.avgLatencyMs),
    sec(a.p95LatencyMs),
    num(a.inputChars, 0),
    num(a.msPerInputChar, 0),
    num(a.msPerToken, 1),
    num(a.rps),
    pct(a.errorRate * 100, 1),
    pct(a.gpuUtilPercent),
    pct(a.engineBusyPercent),
  ]);
}
export const ARTICLE_HEAD = [
  "users",
  "avg latency",
  "p95",
  "input chars",
  "ms per input char (the article's ms/token)",
  "ms per token (50/s of audio)",
  "ok req/s",
  "errors",
  "GPU util (SM)",
  "engine busy",
];

export function costLines(r: Report): string[] {
  const c = r.cost;
  if (!c) return [...r.costInputs];
  const cur = c.currency;
  const m = (x: number, d = 4) => money(x, cur, d);
  return [
    ...r.costInputs.map((l) => `- ${l}`),
    `- cost per day: ${m(c.perDay.totalMicros, 2)} (≈ ${approxMoney(c.perDay.totalMicros, cur)}): GPU ${m(c.perDay.gpuMicros, 2)} + power ${m(c.perDay.powerMicros, 2)} (${c.powerNote}) + operations ${m(c.perDay.opsMicros, 2)}`,
    `- tokens per day: ${int(c.tokensPerDay)} (${c.tokensNote})`,
    "",
    table(
      ["", "per 1k tokens", "per 10k tokens", "per 1M tokens", "per audio minute"],
      [
        [
          "cost",
          m(c.cost.per1kTokensMicros, 6),
          m(c.cost.per10kTokensMicros),
          m(c.cost.per1MTokensMicros),
          m(c.cost.perAudioMinuteMicros),
        ],
        [
          `basic (cost × ${(1 + c.margin).toFixed(2)}), off peak`,
          m(c.basic.per1kTokensMicros, 6),
          m(c.basic.per10kTokensMicros),
          m(c.basic.per1MTokensMicros),
          m(c.basic.perAudioMinuteMicros),
        ],
        [
          `basic at peak (×${(c.peak.multiplierBp / 10_000).toFixed(2)})`,
          m(Math.round((c.basic.per1kTokensMicros * c.peak.multiplierBp) / 10_000), 6),
          m(Math.round((c.basic.per10kTokensMicros * c.peak.multiplierBp) / 10_000)),
          m(Math.round((c.basic.per1MTokensMicros * c.peak.multiplierBp) / 10_000)),
          m(Math.round((c.basic.perAudioMinuteMicros * c.peak.multiplierBp) / 10_000)),
        ],
        [
          `batch (−${(c.batch.discountBp / 100).toFixed(0)} %)`,
          m(c.batch.per1kTokensMicros, 6),
          m(c.batch.per10kTokensMicros),
          m(c.batch.per1MTokensMicros),
          m(c.batch.perAudioMinuteMicros),
        ],
      ],
    ),
    "",
    `- batch work costs ${m(c.batchCost.per1kTokensMicros, 6)} per 1k tokens (${m(c.batchCost.perAudioMinuteMicros)} per audio minute): it waits in a queue and fills idle time, so it runs the GPU at its measured capacity`,
    ...c.warnings.map((w) => `- **warning**: ${w}`),
    `- peak multiplier: ${c.peak.note}`,
    `- enterprise (a dedicated GPU): ${m(c.enterprise.monthlyFeeMicros, 2)} a month (its full cost ${m(c.enterprise.monthlyCostMicros, 2)} × ${(1 + c.margin).toFixed(2)}), ${int(c.enterprise.includedTokens)} tokens included, then ${m(c.enterprise.overagePer1kMicros, 6)} per 1k tokens`,
  ];
}

export function renderMarkdown(r: Report): string {
  const out: string[] = [`# ${r.title}`, ""];
  out.push(
    `Generated ${r.generatedAt} by \`${r.command}\` (commit ${r.commit}); source: ${r.source.detail}.`,
    "",
    "## What was measured",
    "",
    `- target: ${r.target.description} (${r.target.url}, endpoint ${r.target.endpoint})`,
    `- model: ${r.model.name}: ${r.model.note}`,
    `- hardware: ${r.hardware.measured}. CPU ${r.hardware.cpu} × ${r.hardware.cores} cores, ${r.hardware.memoryGiB} GiB RAM, Node ${r.hardware.node}; GPU: ${r.hardware.gpu}`,
    `- load average (1/5/15 min) before ${r.hardware.loadAverage.before.map((x) => x.toFixed(2)).join(" / ")}, after ${r.hardware.loadAverage.after.map((x) => x.toFixed(2)).join(" / ")} (the machine may be shared)`,
    `- SLO: ${r.sloText}`,
    ...(r.serialLatencyMs !== null ? [`- one request at a time: ${sec(r.serialLatencyMs)} (warm-up)`] : []),
    "",
  );
  if (r.model.randomWeights) {
    out.push(
      "> **Random weights.** The model has random weights: its audio is noise and its lengths are not those of real speech. The figures below measure this stack on this hardware and show the method; they are not the capacity or price of real IndexTTS2 on a GPU.",
      "",
    );
  }
  out.push("## The article's table, measured", "");
  if (r.articleTable.length > 0) out.push(table(ARTICLE_HEAD, articleTableRows(r)), "");
  else out.push("(no fixed-user levels were run: use `--phases table`)", "");
  out.push(
    "The article divided latency by the input characters and called it ms per token; the project meters 50 tokens per second of audio, so both are shown. The closed model (Locust's) times requests from their actual send, so under saturation its percentiles are optimistic (coordinated omission); the capacity search below uses the open model.",
    "",
    "## Capacity",
    "",
  );
  if (r.capacity) {
    const s = r.search;
    out.push(
      `- **capacity (the knee of the SLO): ${Number(r.capacity.level.toPrecision(4))} ${r.capacity.unit}**, ${num(r.capacity.rps)} ok/s, p95 ${sec(r.capacity.p95Ms)}, goodput ${num(r.capacity.goodput)} requests/s within the bound, ${num(r.capacity.tokensPerSecond, 1)} tokens/s = ${num(r.capacity.audioSecondsPerSecond)} audio s/s`,
      ...(s
        ? [
            `- first failing level: ${s.firstFail ?? "none up to the maximum"}; throughput plateau: ${num(s.saturationRps)} ok/s; search took ${num(s.elapsedS, 0)} s over ${s.probes.length} probes (growing steps, then bisection; each level held until stable, as perf_analyzer)`,
            "",
            table(
              ["#", "phase", "level", "result", `p${r.slo.percentile}`, "ok/s", "goodput/s", "errors", "stable", "why"],
              s.probes.map((p, i) => [
                i + 1,
                p.phase,
                `${p.level} ${p.step.unit}`,
                p.pass ? "pass" : "FAIL",
                sec(p.value),
                num(p.step.rps),
                num(p.step.goodput),
                pct(p.step.errorRate * 100, 1),
                p.stable ? "yes" : "no",
                p.reasons.join("; "),
              ]),
            ),
          ]
        : []),
      "",
    );
  } else out.push("No load level met the SLO (or no search was run).", "");
  out.push("## All steps", "", table(STEP_HEAD, stepRows(r.steps)), "");
  out.push(
    "## GPU and node telemetry",
    "",
    `- GPU source: ${r.telemetry.gpuSource}; ${r.telemetry.gpu.length} GPU samples, ${r.telemetry.node.length} node and ${r.telemetry.proxy.length} proxy scrapes`,
    `- bottleneck rule: ${r.bottleneck.rule}`,
    `- verdict: **${r.bottleneck.verdict}**: ${r.bottleneck.reason}`,
    ...(r.capacity?.figures
      ? [
          `- at capacity: SM ${pct(r.capacity.figures.smPercent)}, memory ${pct(r.capacity.figures.memPercent)}, power ${r.capacity.figures.powerWatts === null ? "n/a" : `${r.capacity.figures.powerWatts.toFixed(0)} W`}, engine busy ${pct(r.capacity.figures.engineBusy === null ? null : r.capacity.figures.engineBusy * 100)}, mean decode batch ${r.capacity.figures.meanDecodeBatch?.toFixed(1) ?? "n/a"}, mean queue ${r.capacity.figures.meanQueueDepth?.toFixed(1) ?? "n/a"}`,
        ]
      : []),
    "",
    "## Cost and prices",
    "",
    ...costLines(r),
    "",
    "### The article's example, recomputed",
    "",
    ...r.articleCheck.map((l) => `- ${l}`),
    "",
  );
  if (r.comparison) {
    const cmp = r.comparison;
    out.push(
      "## Compared with public TTS API prices",
      "",
      `Our basic price: ${money(cmp.oursPerMinuteMicros, "USD", 4)} per audio minute (cost ${money(cmp.ourCostPerMinuteMicros, "USD", 4)}; ${cmp.usdRate} ${r.cost?.currency ?? ""} per USD). Their per-character prices are turned into audio minutes at 12.5–16 characters per second of speech (the brief's bridge).`,
      "",
      table(
        ["provider", "list price", "≈ per audio minute", "ours ÷ theirs", "source"],
        cmp.rows.map((row) => [
          row.provider,
          row.listPrice,
          row.perMinuteMicros[0] === row.perMinuteMicros[1]
            ? money(row.perMinuteMicros[0], "USD", 4)
            : `${money(row.perMinuteMicros[0], "USD", 4)}–${money(row.perMinuteMicros[1], "USD", 4)}`,
          `${row.oursOverTheirs[0].toPrecision(2)}–${row.oursOverTheirs[1].toPrecision(2)}`,
          row.source,
        ]),
      ),
      "",
    );
  }
  if (r.applied) {
    out.push(
      "## Prices applied through the admin API",
      "",
      table(
        ["plan", "status", "version", "body"],
        r.applied.map((a) => [a.plan, a.status, a.version ?? "—", `\`${JSON.stringify(a.body)}\``]),
      ),
      "",
    );
  }
  if (r.notes.length > 0) out.push("## Notes", "", ...r.notes.map((n) => `- ${n}`), "");
  return out.join("\n");
}
