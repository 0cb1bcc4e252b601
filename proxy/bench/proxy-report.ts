/** The proxy benchmark's report: its shape (bench-out/proxy.json) and its text and Markdown renderings. */
import type { CpuSample } from "./cpu.ts";
import type { ProfileSummary } from "./cpuprofile.ts";
import type { StepResult } from "./open-loop.ts";

export type Mode = "direct" | "proxy";

export type StepRow = Omit<StepResult, "histograms" | "ids200"> & {
  phase: "warmup" | "rate" | "search";
  mode: Mode;
  cpu: CpuSample;
  /** achieved ≥ 99 % of the target rate, no error, no drop, p99 under the bound */
  sustained: boolean;
};

export interface Targets {
  /** ms, proxy p50 − direct p50 at 2,000 req/s (null when 2,000 was not among the rates) */
  addedP50At2k: number | null;
  addedP99At2k: number | null;
  /** req/s, null when the search was skipped */
  highestSustained: number | null;
  /**
   * rows: usage rows of the bench customer; proxy200: 200s the generator received from the proxy; missing: those 200s
   * whose request id has no row (must be 0); withoutResponse: rows whose request got no 200 at the generator.
   */
  durable: { rows: number; proxy200: number; missing: number; withoutResponse: number; equal: boolean } | null;
}

export interface BenchReport {
  command: string;
  when: string;
  machine: { cpus: number; cpuModel: string; node: string; loadAverageBefore: number[]; commit: string };
  settings: {
    durationS: number;
    warmupS: number;
    connections: number;
    maxInFlight: number;
    p99BoundMs: number;
    audioMs: number;
    wavBytes: number;
    /** the process measured as "the proxy": the real proxy, or a bare relay that gives the floor */
    entry: string;
    /** the proxy alone on CPU 0, the stub and the generator on the others (`--pin`) */
    pinned: boolean;
    profiled: boolean;
  };
  steps: StepRow[];
  targets: Targets;
  exits: { proxy: string; stub: string };
  profile: ProfileSummary | null;
}

export const TARGET_ADDED_P50_MS = 0.3;
export const TARGET_ADDED_P99_MS = 1;
export const TARGET_SUSTAINED_RPS = 8000;

const ms = (x: number) => (x < 10 ? x.toFixed(3) : x < 100 ? x.toFixed(1) : x.toFixed(0));
const signed = (x: number) => `${x >= 0 ? "+" : "−"}${ms(Math.abs(x))}`;
const int = (x: number) => Math.round(x).toLocaleString("en-US");
const cores = (s: StepRow, name: string) => ((s.cpu.processes[name] ?? 0) / s.cpu.wallMs).toFixed(2);
const machineCores = (s: StepRow) => (s.cpu.machineBusyMs / s.cpu.wallMs).toFixed(2);
const others = (s: StepRow) => {
  const ours = Object.values(s.cpu.processes).reduce((a, b) => a + b, 0);
  return Math.max(0, (s.cpu.machineBusyMs - ours) / s.cpu.wallMs).toFixed(2);
};
const cpuPerRequestUs = (s: StepRow, name: string) => ((s.cpu.processes[name] ?? 0) * 1000) / Math.max(1, s.sent);
const faults = (s: StepRow) =>
  s.errorCount + s.dropped === 0
    ? "0"
    : `${s.errorCount} err (${Object.entries(s.errors)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}), ${s.dropped} dropped`;

function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(" | ")} |`,
    `|${head.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

function ratePairs(report: BenchReport): { rate: number; d: StepRow; p: StepRow }[] {
  const rows = report.steps.filter((s) => s.phase === "rate");
  const out: { rate: number; d: StepRow; p: StepRow }[] = [];
  for (const p of rows.filter((s) => s.mode === "proxy")) {
    const d = rows.find((s) => s.mode === "direct" && s.rate === p.rate);
    if (d) out.push({ rate: p.rate, d, p });
  }
  return out;
}

export function rateTable(report: BenchReport): string {
  return table(
    [
      "rate (req/s)",
      "direct p50 / p99",
      "proxy p50 / p90 / p99 / max",
      "**added p50**",
      "**added p99**",
      "added p50 / p99 from actual send",
      "proxy achieved (req/s)",
      "errors",
      "proxy CPU per request",
      "cores: proxy / stub / generator / other",
    ],
    ratePairs(report).map(({ rate, d, p }) => [
      int(rate),
      `${ms(d.latency.p50)} / ${ms(d.latency.p99)}`,
      `${ms(p.latency.p50)} / ${ms(p.latency.p90)} / ${ms(p.latency.p99)} / ${ms(p.latency.max)}`,
      `**${signed(p.latency.p50 - d.latency.p50)}**`,
      `**${signed(p.latency.p99 - d.latency.p99)}**`,
      `${signed(p.service.p50 - d.service.p50)} / ${signed(p.service.p99 - d.service.p99)}`,
      int(p.achievedRps),
      faults(p) === "0" && faults(d) === "0" ? "0" : `proxy: ${faults(p)}; direct: ${faults(d)}`,
      `${cpuPerRequestUs(p, "proxy").toFixed(0)} µs`,
      `${cores(p, "proxy")} / ${cores(p, "stub")} / ${cores(p, "generator")} / ${others(p)}`,
    ]),
  );
}

export function searchTable(report: BenchReport): string {
  return table(
    [
      "target (req/s)",
      "achieved (req/s)",
      "p50",
      "p99",
      "max",
      "errors",
      "proxy CPU per request",
      "cores: proxy / stub / generator / other (machine)",
      "sustained",
    ],
    report.steps
      .filter((s) => s.phase === "search")
      .map((s) => [
        int(s.rate),
        int(s.achievedRps),
        ms(s.latency.p50),
        ms(s.latency.p99),
        ms(s.latency.max),
        faults(s),
        `${cpuPerRequestUs(s, "proxy").toFixed(0)} µs`,
        `${cores(s, "proxy")} / ${cores(s, "stub")} / ${cores(s, "generator")} / ${others(s)} (${machineCores(s)})`,
        s.sustained ? "yes" : "**no**",
      ]),
  );
}

export function targetsTable(report: BenchReport): string {
  const t = report.targets;
  const verdict = (ok: boolean | null) => (ok === null ? "not measured" : ok ? "**met**" : "**missed**");
  return table(
    ["target", "measured", "verdict"],
    [
      [
        `added median ≤ ${TARGET_ADDED_P50_MS} ms at 2,000 req/s`,
        t.addedP50At2k === null ? "—" : `${signed(t.addedP50At2k)} ms`,
        verdict(t.addedP50At2k === null ? null : t.addedP50At2k <= TARGET_ADDED_P50_MS),
      ],
      [
        `added p99 ≤ ${TARGET_ADDED_P99_MS} ms at 2,000 req/s`,
        t.addedP99At2k === null ? "—" : `${signed(t.addedP99At2k)} ms`,
        verdict(t.addedP99At2k === null ? null : t.addedP99At2k <= TARGET_ADDED_P99_MS),
      ],
      [
        `≥ ${int(TARGET_SUSTAINED_RPS)} req/s sustained through the proxy`,
        t.highestSustained === null ? "—" : `${int(t.highestSustained)} req/s`,
        verdict(t.highestSustained === null ? null : t.highestSustained >= TARGET_SUSTAINED_RPS),
      ],
      [
        "every 200 has its usage row in proxy.db (checked by request id after SIGTERM)",
        t.durable === null
          ? `— (${report.settings.entry} keeps no ledger)`
          : `${int(t.durable.proxy200)} 200s, ${int(t.durable.missing)} without a row; ${int(t.durable.rows)} rows` +
            (t.durable.withoutResponse > 0
              ? ` (${int(t.durable.withoutResponse)} for requests the client gave up on)`
              : ""),
        verdict(t.durable === null ? null : t.durable.missing === 0),
      ],
    ],
  );
}

export function renderMarkdown(report: BenchReport): string {
  const m = report.machine;
  return [
    "# Proxy overhead",
    "",
    `\`${report.command}\` — ${report.when}, ${m.cpus} × ${m.cpuModel}, Node ${m.node}, commit ${m.commit}; ` +
      `load average before the run ${m.loadAverageBefore.map((x) => x.toFixed(2)).join(" ")}.` +
      (report.settings.profiled ? " **Profiled run: the proxy ran under --cpu-prof.**" : "") +
      (report.settings.entry.endsWith("entry.node.ts") ? "" : ` **In the proxy's place: ${report.settings.entry}.**`) +
      (report.settings.pinned ? " Pinned: the proxy alone on CPU 0, the stub and the generator on the others." : ""),
    "",
    `Each step: ${report.settings.durationS} s at a fixed arrival rate, latency from the intended send time (ms).`,
    "",
    rateTable(report),
    "",
    ...(report.steps.some((s) => s.phase === "search")
      ? [
          `Highest sustained rate through the proxy (achieved ≥ 99 %, no error or drop, p99 < ${report.settings.p99BoundMs} ms):`,
          "",
          searchTable(report),
          "",
        ]
      : []),
    targetsTable(report),
    "",
  ].join("\n");
}

export function renderText(report: BenchReport): string {
  return [
    `proxy overhead bench — ${report.machine.cpus} CPUs (${report.machine.cpuModel}), Node ${report.machine.node}; ` +
      `load, proxy and stub share them`,
    "",
    rateTable(report),
    "",
    searchTable(report),
    "",
    targetsTable(report),
    "",
    `proxy exit ${report.exits.proxy}, stub exit ${report.exits.stub}`,
  ].join("\n");
}
