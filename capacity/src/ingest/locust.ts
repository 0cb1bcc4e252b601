/**
 * Locust's `--csv PREFIX` output turned into this tool's windows and steps: PREFIX_stats_history.csv (one row per
 * second with the user count and cumulative totals), PREFIX_stats.csv (the final totals) and PREFIX_failures.csv.
 * In a distributed run the master writes these files for all workers (its user count is the sum), so a master's
 * files are read the same way.
 *
 * What is exact: counts, rates and mean latencies per interval and per user level (differences of Locust's
 * cumulative totals). What is Locust's own: its percentiles, which it rounds to about two significant digits and, in
 * the history file, reports cumulatively or over a 10 s window depending on version and --csv-full-history.
 */
import { readFileSync } from "node:fs";
import type { Percentiles } from "../core/histogram.ts";
import type { Failures, Metrics, StepSummary, WindowSummary } from "../load/stats.ts";

/** Parses CSV with quoted fields (Locust quotes error messages). */
export function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      if (row.some((f) => f !== "")) rows.push(row);
      row = [];
      field = "";
    } else field += ch;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  const [head, ...body] = rows;
  if (!head) return [];
  return body.map((r) => Object.fromEntries(head.map((h, i) => [h.trim(), (r[i] ?? "").trim()])));
}

const n = (s: string | undefined) => {
  const v = Number(s);
  return s === undefined || s === "" || s === "N/A" || !Number.isFinite(v) ? 0 : v;
};

interface HistoryRow {
  t: number;
  users: number;
  count: number;
  failures: number;
  avgMs: number;
  maxMs: number;
  avgBytes: number;
  p50: number;
  p95: number;
  p99: number;
}

export interface LocustRun {
  history: HistoryRow[];
  /** the final Aggregated row of PREFIX_stats.csv, and the run's length it implies (count ÷ Requests/s) */
  total: HistoryRow | null;
  totalSeconds: number;
  failures: { error: string; occurrences: number }[];
}

const HISTORY_COLUMNS: Record<keyof HistoryRow, string> = {
  t: "Timestamp",
  users: "User Count",
  count: "Total Request Count",
  failures: "Total Failure Count",
  avgMs: "Total Average Response Time",
  maxMs: "Total Max Response Time",
  avgBytes: "Total Average Content Size",
  p50: "50%",
  p95: "95%",
  p99: "99%",
};
const STATS_COLUMNS: Record<keyof HistoryRow, string> = {
  ...HISTORY_COLUMNS,
  users: "",
  count: "Request Count",
  failures: "Failure Count",
  avgMs: "Average Response Time",
  maxMs: "Max Response Time",
  avgBytes: "Average Content Size",
};

const readIf = (path: string) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
};

export function readLocustCsv(prefix: string): LocustRun {
  const historyText = readIf(`${prefix}_stats_history.csv`);
  const statsText = readIf(`${prefix}_stats.csv`);
  if (historyText === null && statsText === null) {
    throw new Error(`no Locust CSV at ${prefix}_stats.csv or ${prefix}_stats_history.csv`);
  }
  const row = (r: Record<string, string>, names: Record<keyof HistoryRow, string>, t: number): HistoryRow => ({
    t,
    users: n(r[names.users]),
    count: n(r[names.count]),
    failures: n(r[names.failures]),
    avgMs: n(r[names.avgMs]),
    maxMs: n(r[names.maxMs]),
    avgBytes: n(r[names.avgBytes]),
    p50: n(r["50%"]),
    p95: n(r["95%"]),
    p99: n(r["99%"]),
  });
  const history = parseCsv(historyText ?? "")
    .filter((r) => r.Name === "Aggregated")
    .map((r) => row(r, HISTORY_COLUMNS, n(r.Timestamp) * 1000))
    .sort((a, b) => a.t - b.t);
  const agg = parseCsv(statsText ?? "").find((r) => r.Name === "Aggregated");
  const total = agg
    ? {
        ...row(agg, STATS_COLUMNS, history[history.length - 1]?.t ?? Date.now()),
        users: Math.max(0, ...history.map((h) => h.users)),
      }
    : null;
  const failures = parseCsv(readIf(`${prefix}_failures.csv`) ?? "").map((r) => ({
    error: r.Error ?? "",
    occurrences: n(r.Occurrences),
  }));
  const rps = n(agg?.["Requests/s"]);
  return { history: settle(history, total), total, totalSeconds: total && rps > 0 ? total.count / rps : 1, failures };
}

/**
 * Two artefacts of how a run ends: users are stopped one by one (with `-s`, after their last request), so the user
 * count falls in the last rows although those requests were sent at the run's level; and the final totals
 * (PREFIX_stats.csv) can be ahead of the last history row. The falling tail takes the level before it, and the
 * final totals become the last row.
 */
function settle(history: HistoryRow[], total: HistoryRow | null): HistoryRow[] {
  const h = history.map((r) => ({ ...r }));
  let i = h.length - 1;
  while (i > 0 && (h[i - 1]?.users ?? 0) >= (h[i]?.users ?? 0)) i--;
  const level = h[i]?.users ?? 0;
  for (let j = i; j < h.length; j++) {
    const row = h[j];
    if (row) row.users = level;
  }
  const last = h[h.length - 1];
  if (total && last && total.count > last.count) h.push({ ...total, t: last.t + 1000, users: level });
  return h;
}

/**
 * "HTTP 503", "HTTPError('429 Client Error ...')" → 503 / 429; 0 when the message names no status. 1xx is never a
 * final status, and excluding it keeps socket errno values (104, 110, 111: reset, timeout, refused) out.
 */
export function statusOf(error: string): number {
  const m = /\b([2-5]\d\d)\b/.exec(error);
  return m ? Number(m[1]) : 0;
}

function failuresFrom(total: number, shares: { status: number; weight: number }[]): Failures {
  const sum = shares.reduce((a, s) => a + s.weight, 0);
  const f: Failures = { total, http429: 0, http5xx: 0, http4xx: 0, transport: 0, dropped: 0, byCause: {} };
  if (total === 0) return f;
  // spread this interval's failures over the causes in proportion to the run's failure report
  for (const s of sum > 0 ? shares : [{ status: 0, weight: 1 }]) {
    const k = Math.round((total * s.weight) / (sum || 1));
    const cause = s.status ? `http_${s.status}` : "error";
    f.byCause[cause] = (f.byCause[cause] ?? 0) + k;
    if (s.status === 429) f.http429 += k;
    else if (s.status >= 500) f.http5xx += k;
    else if (s.status >= 400) f.http4xx += k;
    else f.transport += k;
  }
  return f;
}

export interface IngestOptions {
  /** bytes of WAV per second of audio (16-bit mono 22,050 Hz = 44,100) */
  wavBytesPerSecond: number;
  tokensPerSecond: number;
  /** SLO latency bound: Locust gives no per-request latencies, so goodput is only known where p95 is within it */
  goodMs: number;
}

const pct = (count: number, mean: number, p50: number, p95: number, p99: number, max: number): Percentiles => ({
  count,
  mean,
  p50,
  p95,
  p99,
  max,
});

/** Metrics of the interval between two cumulative rows. */
function between(
  a: HistoryRow,
  b: HistoryRow,
  causes: { status: number; weight: number }[],
  o: IngestOptions,
): Metrics {
  const durationS = Math.max(1e-3, (b.t - a.t) / 1000);
  const count = b.count - a.count;
  const failed = Math.max(0, b.failures - a.failures);
  const ok = Math.max(0, count - failed);
  const mean = count > 0 ? (b.avgMs * b.count - a.avgMs * a.count) / count : 0;
  const bytes = b.avgBytes * b.count - a.avgBytes * a.count;
  const audioS = Math.max(0, (bytes - 44 * count) / o.wavBytesPerSecond);
  const tokens = audioS * o.tokensPerSecond;
  const tokensPerRequest = count > 0 ? tokens / count : 0;
  return {
    durationS,
    sent: count,
    ok,
    failures: failuresFrom(failed, causes),
    errorRate: count > 0 ? failed / count : 0,
    rps: ok / durationS,
    goodput: b.p95 <= o.goodMs ? ok / durationS : 0,
    latency: pct(count, mean, b.p50, b.p95, b.p99, b.maxMs),
    ttfb: pct(0, 0, 0, 0, 0, 0),
    rtf: pct(0, 0, 0, 0, 0, 0),
    audioSecondsPerSecond: audioS / durationS,
    tokensPerSecond: tokens / durationS,
    tokensPerRequest,
    inputCharsPerRequest: 0,
    msPerToken: tokensPerRequest > 0 ? mean / tokensPerRequest : 0,
    msPerInputChar: 0,
    sendLag: pct(0, 0, 0, 0, 0, 0),
    maxInFlight: 0,
  };
}

/**
 * Windows (one per history interval) and steps (one per stretch at the same user count). `inputChars` is the
 * payload's length (Locust's CSV does not carry it; the locustfile sends the article's 29-character text).
 */
export function locustSteps(run: LocustRun, o: IngestOptions & { inputChars: number }): StepSummary[] {
  const causes = run.failures.map((f) => ({ status: statusOf(f.error), weight: f.occurrences }));
  const withChars = (m: Metrics): Metrics => ({
    ...m,
    inputCharsPerRequest: m.ok > 0 ? o.inputChars : 0,
    msPerInputChar: m.ok > 0 && o.inputChars > 0 ? m.latency.mean / o.inputChars : 0,
  });
  const h = run.history;
  const t0 = h[0]?.t ?? 0;
  const steps: StepSummary[] = [];
  if (h.length >= 2 && (h[h.length - 1]?.count ?? 0) > 0) {
    let i = 1;
    while (i < h.length) {
      const users = h[i]?.users ?? 0;
      const startRow = h[i - 1] as HistoryRow;
      const windows: WindowSummary[] = [];
      while (i < h.length && h[i]?.users === users) {
        const a = h[i - 1] as HistoryRow;
        const b = h[i] as HistoryRow;
        windows.push({
          ...withChars(between(a, b, causes, o)),
          phase: "locust",
          step: `${users} users`,
          load: users,
          unit: "users",
          startS: (a.t - t0) / 1000,
          inFlight: 0,
        });
        i++;
      }
      const endRow = h[i - 1] as HistoryRow;
      if (users === 0 || endRow.count === startRow.count) continue;
      steps.push({
        ...withChars(between(startRow, endRow, causes, o)),
        phase: "locust",
        step: `${users} users`,
        load: users,
        unit: "users",
        startS: (startRow.t - t0) / 1000,
        startedAtMs: startRow.t,
        endedAtMs: endRow.t,
        windows,
      });
    }
  } else if (run.total && run.total.count > 0) {
    const zero: HistoryRow = {
      ...run.total,
      t: run.total.t - run.totalSeconds * 1000,
      count: 0,
      failures: 0,
      avgMs: 0,
      avgBytes: 0,
    };
    steps.push({
      ...withChars(between(zero, run.total, causes, o)),
      phase: "locust",
      step: `${run.total.users} users (totals only)`,
      load: run.total.users,
      unit: "users",
      startS: 0,
      startedAtMs: zero.t,
      endedAtMs: run.total.t,
      windows: [],
    });
  }
  return steps;
}
