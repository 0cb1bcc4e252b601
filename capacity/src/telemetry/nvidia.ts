/**
 * GPU sampling with nvidia-smi during a run, in both formats the article and this project use, parsed by the
 * gpu-node's parsers (gpu-node/src/telemetry/gpu.ts):
 * - `nvidia-smi dmon -s u -d 1 -o T`: the article's view (sm, mem, enc, dec per second);
 * - `nvidia-smi --query-gpu=timestamp,<QUERY_GPU_FIELDS> --format=csv,noheader,nounits -lms N`: memory used,
 *   power and the energy counter as well.
 * The raw output is also written to log files, which `ingest --gpu-log` reads back (as it reads a log someone
 * recorded by hand next to a Locust run).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import { type GpuSample, parseDmon, parseQueryGpuCsv, QUERY_GPU_FIELDS } from "../../../gpu-node/src/telemetry/gpu.ts";

export type { GpuSample };

/** The query the sampler runs (and the format `parseGpuLog` expects for a CSV log): a timestamp, then the node's fields. */
export const GPU_QUERY_ARGS = [`--query-gpu=timestamp,${QUERY_GPU_FIELDS.join(",")}`, "--format=csv,noheader,nounits"];
export const DMON_ARGS = ["dmon", "-s", "u", "-d", "1", "-o", "T"];

/** nvidia-smi's timestamp ("2026/12/01 17:47:43.123", local time) → unix ms. */
export function parseSmiTimestamp(text: string): number | null {
  const m = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/.exec(text.trim());
  if (!m) return null;
  const n = (i: number) => Number(m[i] ?? 0);
  return new Date(n(1), n(2) - 1, n(3), n(4), n(5), n(6), Number((m[7] ?? "0").padEnd(3, "0"))).getTime();
}

/** One `--query-gpu=timestamp,...` CSV line (or several) → samples timed by their own timestamp. */
export function parseQueryLog(text: string, fallbackAt: number): GpuSample[] {
  const out: GpuSample[] = [];
  for (const line of text.split("\n")) {
    const comma = line.indexOf(",");
    if (comma < 0) continue;
    const first = line.slice(0, comma).trim();
    const at = parseSmiTimestamp(first);
    // A CSV without the timestamp column (the node's own query) is accepted too.
    out.push(...(at === null ? parseQueryGpuCsv(line, fallbackAt) : parseQueryGpuCsv(line.slice(comma + 1), at)));
  }
  return out;
}

/**
 * A dmon log: header lines, then one line per GPU per interval. With `-o T` (or `-o DT`) each line carries its time
 * of day; without it (the article's plain `dmon -s u -d 1`) samples are placed `intervalMs` apart from `startMs`.
 */
export function parseDmonLog(text: string, startMs: number, intervalMs = 1000): GpuSample[] {
  let header: string | null = null;
  let names: string[] = [];
  const out: GpuSample[] = [];
  let tick = -1;
  let prevGpu = Number.NaN;
  const day = new Date(startMs);
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith("#")) {
      const cols = line.replace(/^#\s*/, "").split(/\s+/);
      if (cols.includes("gpu")) {
        header = line;
        names = cols;
      }
      continue;
    }
    if (!header) continue;
    const cols = line.split(/\s+/);
    const time = names.indexOf("Time") >= 0 ? cols[names.indexOf("Time")] : undefined;
    const date = names.indexOf("Date") >= 0 ? cols[names.indexOf("Date")] : undefined;
    let at: number;
    if (time && /^\d{2}:\d{2}:\d{2}$/.test(time)) {
      const [h, mi, s] = time.split(":").map(Number);
      const base =
        date && /^\d{8}$/.test(date) ? new Date(+date.slice(0, 4), +date.slice(4, 6) - 1, +date.slice(6, 8)) : day;
      at = new Date(base.getFullYear(), base.getMonth(), base.getDate(), h ?? 0, mi ?? 0, s ?? 0).getTime();
    } else {
      // a new interval starts when the GPU index does not go up (0, 1, 0, 1, ...)
      const gpu = Number(cols[names.indexOf("gpu")]);
      if (tick < 0 || !(gpu > prevGpu)) tick++;
      prevGpu = gpu;
      at = startMs + tick * intervalMs;
    }
    out.push(...parseDmon(`${header}\n${line}`, at));
  }
  return out;
}

/** Either kind of log, told apart by its content. */
export function parseGpuLog(text: string, startMs: number, intervalMs = 1000): GpuSample[] {
  return /^\s*#.*\bgpu\b/m.test(text) ? parseDmonLog(text, startMs, intervalMs) : parseQueryLog(text, startMs);
}

export interface GpuSampling {
  /** samples of the --query-gpu sampler, in arrival order */
  query: GpuSample[];
  /** samples of the dmon sampler */
  dmon: GpuSample[];
  /** resolves false when nvidia-smi cannot be run here */
  available: Promise<boolean>;
  stop(): Promise<void>;
}

/** Runs both nvidia-smi samplers until `stop()`, writing their raw output to `queryLog` and `dmonLog` when given. */
export function startGpuSampling(o: {
  intervalMs?: number;
  command?: string;
  queryLog?: string;
  dmonLog?: string;
}): GpuSampling {
  const command = o.command ?? "nvidia-smi";
  const query: GpuSample[] = [];
  const dmon: GpuSample[] = [];
  const children: ChildProcess[] = [];
  const logs: WriteStream[] = [];
  const run = (
    args: string[],
    logPath: string | undefined,
    parse: (chunk: string) => GpuSample[],
    samples: GpuSample[],
  ) =>
    new Promise<boolean>((resolve) => {
      const child = spawn(command, args, { stdio: ["ignore", "pipe", "ignore"] });
      children.push(child);
      let log: WriteStream | null = null;
      let buffer = "";
      child.once("error", () => resolve(false));
      child.once("spawn", () => resolve(true));
      child.stdout?.setEncoding("utf8");
      child.stdout?.on("data", (chunk: string) => {
        if (logPath && !log) {
          log = createWriteStream(logPath);
          logs.push(log);
        }
        log?.write(chunk);
        buffer += chunk;
        const cut = buffer.lastIndexOf("\n");
        if (cut < 0) return;
        const lines = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 1);
        samples.push(...parse(lines));
      });
    });
  // dmon needs its header lines: keep the latest and parse each data chunk behind it
  let dmonHeader = "";
  const parseDmonChunk = (lines: string) => {
    const headers = lines.split("\n").filter((l) => l.trim().startsWith("#"));
    for (const h of headers) if (/\bgpu\b/.test(h)) dmonHeader = h;
    return parseDmonLog(`${dmonHeader}\n${lines}`, Date.now());
  };
  const available = Promise.all([
    run([...GPU_QUERY_ARGS, `-lms=${o.intervalMs ?? 1000}`], o.queryLog, (l) => parseQueryLog(l, Date.now()), query),
    run(DMON_ARGS, o.dmonLog, parseDmonChunk, dmon),
  ]).then(([a, b]) => a || b);
  return {
    query,
    dmon,
    available,
    async stop() {
      for (const c of children) if (c.exitCode === null && c.pid !== undefined) c.kill("SIGTERM");
      await Promise.all(logs.map((l) => new Promise<void>((r) => l.end(() => r()))));
    },
  };
}
