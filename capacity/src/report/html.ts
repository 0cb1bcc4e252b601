/**
 * The report as one self-contained HTML page: the Markdown report's sections (converted by a small converter for
 * the subset the report uses) with inline SVG charts: latency and throughput against load with the knee marked,
 * the per-window timeline, and the GPU / engine timeline. No scripts, no fonts, no CDN.
 */
import type { WindowSummary } from "../load/stats.ts";
import { renderMarkdown } from "./markdown.ts";
import { type ChartSeries, lineChart } from "./svg.ts";
import type { Report } from "./types.ts";

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const inline = (s: string) =>
  esc(s)
    .replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>")
    .replace(/`([^`]+)`/g, "<code>$1</code>");

/** Markdown subset → HTML: headings, lists, tables, block quotes, paragraphs, bold and code spans. */
export function markdownToHtml(md: string): string {
  const out: string[] = [];
  const lines = md.split("\n");
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? "";
    if (/^#{1,3} /.test(line)) {
      const level = line.indexOf(" ");
      out.push(`<h${level}>${inline(line.slice(level + 1))}</h${level}>`);
      i++;
    } else if (line.startsWith("| ")) {
      const rows: string[][] = [];
      while ((lines[i] ?? "").startsWith("|")) {
        const l = lines[i] ?? "";
        if (!/^\|(-+\|)+$/.test(l)) {
          rows.push(
            l
              .slice(2, -2)
              .split(/(?<!\\) \| /)
              .map((c) => c.replace(/\\\|/g, "|")),
          );
        }
        i++;
      }
      const [head, ...body] = rows;
      out.push(
        `<table><thead><tr>${(head ?? []).map((c) => `<th>${inline(c)}</th>`).join("")}</tr></thead><tbody>${body
          .map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join("")}</tr>`)
          .join("")}</tbody></table>`,
      );
    } else if (line.startsWith("- ")) {
      const items: string[] = [];
      while ((lines[i] ?? "").startsWith("- ")) items.push((lines[i++] ?? "").slice(2));
      out.push(`<ul>${items.map((x) => `<li>${inline(x)}</li>`).join("")}</ul>`);
    } else if (line.startsWith("> ")) {
      out.push(`<blockquote>${inline(line.slice(2))}</blockquote>`);
      i++;
    } else if (line.trim() === "") {
      i++;
    } else {
      out.push(`<p>${inline(line)}</p>`);
      i++;
    }
  }
  return out.join("\n");
}

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];

function charts(r: Report): Record<string, string[]> {
  const byHeading: Record<string, string[]> = {};
  const add = (heading: string, svg: string) => {
    byHeading[heading] = [...(byHeading[heading] ?? []), svg];
  };
  const knee = r.capacity
    ? [{ x: r.capacity.level, label: `knee: ${Number(r.capacity.level.toPrecision(4))} ${r.capacity.unit}` }]
    : [];
  const bound = [{ y: r.slo.boundMs / 1000, label: `SLO p${r.slo.percentile} ≤ ${r.slo.boundMs / 1000} s` }];

  if (r.search && r.search.probes.length > 0) {
    const probes = [...r.search.probes].sort((a, b) => a.level - b.level);
    const unit = r.search.unit;
    const series = (name: string, pick: (p: (typeof probes)[number]) => number, color: string): ChartSeries => ({
      name,
      color,
      dots: true,
      points: probes.map((p) => [p.level, pick(p)]),
    });
    add(
      "Capacity",
      lineChart({
        title: "Latency against load (capacity search probes)",
        xLabel: `offered load (${unit})`,
        yLabel: "latency (s)",
        series: [
          series("p50", (p) => p.step.latency.p50 / 1000, COLORS[0] ?? ""),
          series("p95", (p) => p.step.latency.p95 / 1000, COLORS[1] ?? ""),
          series("p99", (p) => p.step.latency.p99 / 1000, COLORS[3] ?? ""),
        ],
        vlines: knee,
        hlines: bound,
      }),
    );
    add(
      "Capacity",
      lineChart({
        title: "Throughput against load",
        xLabel: `offered load (${unit})`,
        yLabel: "requests per second",
        series: [
          series("ok/s", (p) => p.step.rps, COLORS[0] ?? ""),
          series("goodput/s (within the SLO bound)", (p) => p.step.goodput, COLORS[2] ?? ""),
          ...(unit === "req/s"
            ? [
                {
                  name: "offered",
                  color: "#999",
                  dashed: true,
                  points: probes.map((p) => [p.level, p.level] as [number, number]),
                },
              ]
            : []),
        ],
        vlines: knee,
      }),
    );
  }
  if (r.articleTable.length > 0) {
    add(
      "The article's table, measured",
      lineChart({
        title: "Latency against users (closed model, as the article)",
        xLabel: "users",
        yLabel: "latency (s)",
        series: [
          {
            name: "mean",
            color: COLORS[0] ?? "",
            dots: true,
            points: r.articleTable.map((a) => [a.users, a.avgLatencyMs / 1000]),
          },
          {
            name: "p95",
            color: COLORS[1] ?? "",
            dots: true,
            points: r.articleTable.map((a) => [a.users, a.p95LatencyMs / 1000]),
          },
        ],
        hlines: bound,
      }),
    );
  }
  const windows: WindowSummary[] = r.steps.flatMap((s) => s.windows);
  if (windows.length > 0) {
    const t = (w: WindowSummary) => w.startS + w.durationS;
    add(
      "All steps",
      lineChart({
        title: "Timeline: throughput and latency per window",
        xLabel: "seconds since start",
        yLabel: "ok/s · latency p95 (s)",
        series: [
          { name: "ok/s", color: COLORS[0] ?? "", points: windows.map((w) => [t(w), w.rps]) },
          { name: "p95 latency (s)", color: COLORS[1] ?? "", points: windows.map((w) => [t(w), w.latency.p95 / 1000]) },
          {
            name: "failures/s",
            color: COLORS[3] ?? "",
            points: windows.map((w) => [t(w), w.failures.total / w.durationS]),
          },
        ],
      }),
    );
    add(
      "All steps",
      lineChart({
        title: "Timeline: load (users or offered req/s) and in-flight requests",
        xLabel: "seconds since start",
        yLabel: "users · req/s · in flight",
        series: [
          { name: "load", color: COLORS[4] ?? "", points: windows.map((w) => [t(w), w.load]) },
          { name: "in flight", color: COLORS[5] ?? "", points: windows.map((w) => [t(w), w.inFlight]) },
        ],
      }),
    );
  }
  const t0 = r.startedAtMs;
  const gpu = r.telemetry.dmon.length > 0 ? r.telemetry.dmon : r.telemetry.gpu;
  const node = r.telemetry.node;
  if (gpu.length > 0 || node.length > 0) {
    const rel = (at: number) => (at - t0) / 1000;
    add(
      "GPU and node telemetry",
      lineChart({
        title: gpu.length > 0 ? "GPU timeline (nvidia-smi) and engine busy share" : "Engine timeline (no GPU measured)",
        xLabel: "seconds since start",
        yLabel: "%",
        series: [
          ...(gpu.length > 0
            ? [
                {
                  name: "SM %",
                  color: COLORS[1] ?? "",
                  points: gpu.map((s) => [rel(s.at), s.smPercent] as [number, number]),
                },
                {
                  name: "memory %",
                  color: COLORS[0] ?? "",
                  points: gpu.map((s) => [rel(s.at), s.memPercent] as [number, number]),
                },
              ]
            : []),
          {
            name: "engine busy %",
            color: COLORS[2] ?? "",
            points: node.filter((p) => p.busy !== null).map((p) => [rel(p.at), (p.busy ?? 0) * 100]),
          },
          {
            name: "queue depth",
            color: COLORS[3] ?? "",
            dashed: true,
            points: node.filter((p) => p.queueDepth !== null).map((p) => [rel(p.at), p.queueDepth ?? 0]),
          },
        ],
        hlines: gpu.length > 0 ? [{ y: 90, label: "memory 90 %" }] : [],
      }),
    );
    const power = r.telemetry.gpu.filter((s) => s.powerWatts !== undefined);
    if (power.length > 0) {
      add(
        "GPU and node telemetry",
        lineChart({
          title: "GPU power",
          xLabel: "seconds since start",
          yLabel: "W",
          series: [
            { name: "power W", color: COLORS[3] ?? "", points: power.map((s) => [rel(s.at), s.powerWatts ?? 0]) },
          ],
        }),
      );
    }
  }
  return byHeading;
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:13px}th,td{border:1px solid #ccc;padding:3px 6px;text-align:left}
th{background:#f3f3f3}blockquote{border-left:4px solid #c60;margin:1em 0;padding:.5em 1em;background:#fff4e5}
code{background:#f3f3f3;padding:0 3px}svg{display:block;margin:1em 0;max-width:100%;height:auto}`;

export function renderHtml(r: Report): string {
  const md = renderMarkdown(r);
  const chartMap = charts(r);
  const sections = md.split(/\n(?=## )/);
  const body = sections
    .map((section) => {
      const heading = /^## (.+)$/m.exec(section)?.[1]?.trim() ?? "";
      return markdownToHtml(section) + (chartMap[heading] ?? []).join("\n");
    })
    .join("\n");
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${esc(r.title)}</title><style>${STYLE}</style></head><body>\n${body}\n</body></html>\n`;
}
