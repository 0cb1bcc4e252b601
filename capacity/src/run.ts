/**
 * One measurement of a running stack: warm-up, then the chosen phases —
 *   ramp   the article's Locust run: closed model, start 10 users, +2 a second, up to 50, wait between(1, 3) s;
 *   table  closed levels at fixed user counts (the article's 5 / 20 / 40), for the article's table;
 *   closed a plain closed run (users, spawn rate, wait, duration);
 *   open   a plain open run (constant or Poisson arrivals, optionally ramping to another rate);
 *   search the capacity search (open model by default) against the SLO —
 * with telemetry (nvidia-smi, node and proxy /metrics) sampled throughout.
 */
import { mkdirSync } from "node:fs";
import { loadavg } from "node:os";
import { seededRng } from "./core/rng.ts";
import { type ArrivalProcess, constantRate, ramp } from "./load/arrivals.ts";
import { runClosed } from "./load/closed.ts";
import { HttpExecutor, type Sample } from "./load/executor.ts";
import { runOpen } from "./load/open.ts";
import { createProgress } from "./load/progress.ts";
import { fixedUsers, stepUsers } from "./load/shapes.ts";
import { Recorder, type StepSummary } from "./load/stats.ts";
import type { Length } from "./payloads/corpus.ts";
import {
  type Endpoint,
  endpointPath,
  type Payload,
  type Profile,
  payloadPicker,
  payloadsFor,
} from "./payloads/profiles.ts";
import { probeStopper } from "./search/probe.ts";
import { type ProbeOutcome, type SearchResult, searchCapacity } from "./search/search.ts";
import { DEFAULT_STABILITY, type Slo, type Stability } from "./search/slo.ts";
import { startTelemetry, type Telemetry } from "./telemetry/sampler.ts";

export type Phase = "ramp" | "table" | "closed" | "open" | "search";
export const PHASES: readonly Phase[] = ["ramp", "table", "closed", "open", "search"];

export interface RunConfig {
  url: string;
  endpoint: Endpoint;
  apiKey?: string;
  nodeMetricsUrl?: string;
  proxyMetricsUrl?: string;
  proxyMetricsToken?: string;
  payload: Profile;
  lengths: Length[];
  phases: Phase[];
  warmupRequests: number;
  ramp: { start: number; step: number; everyS: number; max: number; holdS: number };
  wait: [number, number];
  tableUsers: number[];
  tableDurationS: number;
  closed: { users: number; spawnRate: number; durationS: number };
  open: { rate: number; rampTo: number | null; durationS: number };
  arrivals: ArrivalProcess;
  maxInFlight: number;
  slo: Slo;
  stability: Stability;
  search: {
    model: "open" | "closed";
    start: number | null;
    max: number;
    growth: number;
    precision: number;
    probeMaxS: number;
    /** a probe window holds at least this many requests (so low rates get longer windows) */
    minPerWindow: number;
  };
  windowMs: number;
  timeoutMs: number;
  connections: number;
  seed: number;
  telemetryMs: number;
  logDir?: string;
  nvidiaSmi?: string;
  quiet: boolean;
}

export interface RunData {
  startedAtMs: number;
  endedAtMs: number;
  loadBefore: number[];
  loadAfter: number[];
  serialLatencyMs: number | null;
  steps: StepSummary[];
  search: SearchResult | null;
  telemetry: Telemetry;
  interrupted: boolean;
}

export async function runMeasurement(cfg: RunConfig, signal?: AbortSignal): Promise<RunData> {
  if (cfg.logDir) mkdirSync(cfg.logDir, { recursive: true });
  const startedAtMs = Date.now();
  const loadBefore = loadavg();
  const progress = createProgress(process.stderr, cfg.quiet);
  const recorder = new Recorder({
    windowMs: cfg.windowMs,
    goodMs: cfg.slo.boundMs,
    onWindow: (w) => progress.window(w, recorder.elapsedS),
  });
  const executor = new HttpExecutor({
    origin: cfg.url,
    path: endpointPath(cfg.endpoint),
    headers: cfg.apiKey ? { authorization: `Bearer ${cfg.apiKey}` } : {},
    connections: cfg.connections,
    timeoutMs: cfg.timeoutMs,
  });
  const rng = seededRng(cfg.seed);
  const payloads: Payload[] = payloadsFor(cfg.endpoint, cfg.payload, cfg.lengths);
  const pick = payloadPicker(payloads, rng);
  const stopped = () => signal?.aborted === true;
  const telemetry = startTelemetry({
    intervalMs: cfg.telemetryMs,
    ...(cfg.nodeMetricsUrl ? { nodeMetricsUrl: cfg.nodeMetricsUrl } : {}),
    ...(cfg.proxyMetricsUrl ? { proxyMetricsUrl: cfg.proxyMetricsUrl } : {}),
    ...(cfg.proxyMetricsToken ? { proxyMetricsToken: cfg.proxyMetricsToken } : {}),
    ...(cfg.logDir ? { logDir: cfg.logDir } : {}),
    ...(cfg.nvidiaSmi ? { nvidiaSmi: cfg.nvidiaSmi } : {}),
  });
  const closed = (step: string, phase: string, shape: ReturnType<typeof fixedUsers>, shouldStop = stopped) =>
    runClosed({ executor, recorder, pick, shape, wait: cfg.wait, rng, phase, step, shouldStop });

  let search: SearchResult | null = null;
  let serialLatencyMs: number | null = null;
  try {
    // Warm-up: a few requests one at a time (JIT, connections, the node's first graph runs); their mean latency
    // seeds the search (one request at a time sustains 1000 / latency requests per second).
    if (cfg.warmupRequests > 0 && !stopped()) {
      const samples: Sample[] = [];
      for (let i = 0; i < cfg.warmupRequests && !stopped(); i++) {
        samples.push(await new Promise<Sample>((resolve) => executor.send(pick(), performance.now(), resolve)));
      }
      const ok = samples.filter((x) => x.error === null);
      if (ok.length === 0) {
        const causes = [...new Set(samples.map((x) => x.error))].join(", ");
        throw new Error(`warm-up: no request succeeded against ${cfg.url}${endpointPath(cfg.endpoint)} (${causes})`);
      }
      serialLatencyMs = ok.reduce((acc, x) => acc + (x.endAt - x.sentAt), 0) / ok.length;
      progress.note(
        `warm-up: ${ok.length}/${samples.length} serial requests ok, mean ${serialLatencyMs.toFixed(0)} ms`,
      );
    }
    for (const phase of cfg.phases) {
      if (stopped()) break;
      progress.note(`phase ${phase}`);
      if (phase === "ramp") {
        const r = cfg.ramp;
        await closed(`${r.start}→${r.max} users +${r.step}/${r.everyS}s`, "ramp", stepUsers(r));
      } else if (phase === "table") {
        for (const users of cfg.tableUsers) {
          if (stopped()) break;
          await closed(`${users} users`, "table", fixedUsers(users, Math.max(users, 1), cfg.tableDurationS));
        }
      } else if (phase === "closed") {
        const c = cfg.closed;
        await closed(`${c.users} users`, "closed", fixedUsers(c.users, c.spawnRate, c.durationS));
      } else if (phase === "open") {
        const o = cfg.open;
        const segments =
          o.rampTo === null ? constantRate(o.rate, o.durationS * 1000) : ramp(o.rate, o.rampTo, o.durationS * 1000);
        const label =
          o.rampTo === null ? `${o.rate} req/s ${cfg.arrivals}` : `${o.rate}→${o.rampTo} req/s ${cfg.arrivals}`;
        await runOpen({
          executor,
          recorder,
          pick,
          segments,
          process: cfg.arrivals,
          rng,
          maxInFlight: cfg.maxInFlight,
          phase: "open",
          step: label,
          shouldStop: stopped,
        });
      } else if (phase === "search") {
        const s = cfg.search;
        const start = s.start ?? (serialLatencyMs ? Math.max(0.1, 1000 / serialLatencyMs) : 1);
        const integer = s.model === "closed";
        const probe = async (level: number): Promise<ProbeOutcome> => {
          // Windows long enough to hold `minPerWindow` requests at this level (a closed level of n users
          // completes about n / latency requests per second; the serial latency stands in for it).
          // Windows also fit the probe's time: the level's own warm-up window plus the stability windows.
          const perSecond = integer ? level * (1000 / Math.max(1, serialLatencyMs ?? 1000)) : level;
          const fit = Math.floor((s.probeMaxS * 1000) / (cfg.stability.windows + 1));
          const wanted = Math.ceil((1000 * s.minPerWindow) / Math.max(perSecond, 1e-3));
          const windowMs = Math.max(cfg.windowMs, Math.min(wanted, fit));
          const stopper = probeStopper(recorder, cfg.slo, cfg.stability, stopped);
          const shouldStop = stopper.shouldStop;
          const label = integer ? `${level} users` : `${level} req/s`;
          const step = integer
            ? await closed(label, "search", fixedUsers(level, level, s.probeMaxS), shouldStop)
            : await runOpen({
                executor,
                recorder,
                pick,
                segments: constantRate(level, s.probeMaxS * 1000),
                process: cfg.arrivals,
                rng,
                maxInFlight: cfg.maxInFlight,
                phase: "search",
                step: label,
                windowMs,
                shouldStop,
              });
          return { step, stable: stopper.stable(step.windows) };
        };
        search = await searchCapacity(probe, {
          slo: cfg.slo,
          start: integer ? Math.max(1, Math.round(start)) : Number(start.toPrecision(3)),
          max: s.max,
          growth: s.growth,
          precision: s.precision,
          integer,
          min: integer ? 1 : Math.max(0.05, start / 8),
          onProbe: (p) =>
            progress.note(
              `probe ${p.level} ${p.step.unit}: ${p.pass ? "PASS" : "FAIL"} p${cfg.slo.percentile} ${p.value.toFixed(0)} ms, ${p.step.rps.toFixed(2)} ok/s, errors ${(p.step.errorRate * 100).toFixed(1)} %${p.reasons.length ? ` (${p.reasons.join("; ")})` : ""}`,
            ),
        });
        progress.note(
          `capacity: ${search.capacity} ${search.unit} (${search.atCapacity?.step.rps.toFixed(2) ?? 0} ok/s, goodput ${search.goodput.toFixed(2)}/s); first failure at ${search.firstFail ?? "none"}`,
        );
      }
    }
  } finally {
    progress.done();
    await executor.close();
  }
  return {
    startedAtMs,
    endedAtMs: Date.now(),
    loadBefore,
    loadAfter: loadavg(),
    serialLatencyMs,
    steps: recorder.steps,
    search,
    telemetry: await telemetry.stop(),
    interrupted: stopped(),
  };
}

export { DEFAULT_STABILITY };
