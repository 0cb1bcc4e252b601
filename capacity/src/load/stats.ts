/**
 * Statistics of a load run: every completed request goes into the current time window (1 s by default) and into
 * the current step (one load level). Latency and TTFB percentiles come from HDR histograms; failures are counted by
 * cause, with 429 (refused by a rate limit) apart from 5xx (the server failed or shed load), other 4xx, transport
 * errors (timeouts, refused connections) and drops (the open model's in-flight cap was hit, so it never sent them).
 */
import { type Histogram, newHistogram, type Percentiles, percentiles, recordMs } from "../core/histogram.ts";
import type { Sample } from "./executor.ts";

export interface Failures {
  total: number;
  http429: number;
  http5xx: number;
  http4xx: number;
  /** timeouts, refused or reset connections, short bodies */
  transport: number;
  /** open model only: arrivals not sent because `maxInFlight` requests were outstanding */
  dropped: number;
  /** every cause by name: "http_503", "timeout", "dropped", ... */
  byCause: Record<string, number>;
}

export interface Metrics {
  /** seconds covered */
  durationS: number;
  /** requests started (the open model: sent, not dropped) */
  sent: number;
  /** complete 200 responses */
  ok: number;
  failures: Failures;
  /** ok / (ok + failures): failures include drops */
  errorRate: number;
  /** ok per second */
  rps: number;
  /** ok responses within the SLO latency bound, per second */
  goodput: number;
  /** ms from the intended send (open model) or the send (closed model) to the last body byte; ok requests */
  latency: Percentiles;
  /** ms to the response head, same origin as `latency` */
  ttfb: Percentiles;
  /** real-time factor: latency ÷ audio duration, per ok request */
  rtf: Percentiles;
  audioSecondsPerSecond: number;
  tokensPerSecond: number;
  /** mean billable tokens and input characters per ok request */
  tokensPerRequest: number;
  inputCharsPerRequest: number;
  /** mean latency ÷ mean tokens per request, ms (the cost in time of one token at this load) */
  msPerToken: number;
  /** the article's "ms per token": mean latency ÷ input characters */
  msPerInputChar: number;
  /** open model: actual send − intended send, ms */
  sendLag: Percentiles;
  maxInFlight: number;
}

export interface WindowSummary extends Metrics {
  phase: string;
  step: string;
  /** users (closed model) or offered arrivals per second (open model) at the window's end */
  load: number;
  unit: "users" | "req/s";
  /** seconds from the run's start */
  startS: number;
  inFlight: number;
}

export interface StepSummary extends Metrics {
  phase: string;
  step: string;
  load: number;
  unit: "users" | "req/s";
  startS: number;
  /** unix ms, for lining the step up with telemetry */
  startedAtMs: number;
  endedAtMs: number;
  windows: WindowSummary[];
}

/** Counts and histograms of one window or one step. */
export class Accumulator {
  private readonly latency: Histogram = newHistogram();
  private readonly ttfb: Histogram = newHistogram();
  private readonly rtf: Histogram = newHistogram();
  private readonly lag: Histogram = newHistogram();
  private sent = 0;
  private ok = 0;
  private good = 0;
  private audioMs = 0;
  private tokens = 0;
  private inputChars = 0;
  private maxInFlight = 0;
  private readonly failures: Failures = {
    total: 0,
    http429: 0,
    http5xx: 0,
    http4xx: 0,
    transport: 0,
    dropped: 0,
    byCause: {},
  };

  constructor(private readonly goodMs: number) {}

  sentOne(lagMs: number | null, inFlight: number): void {
    this.sent++;
    if (lagMs !== null) recordMs(this.lag, Math.max(0.001, lagMs));
    if (inFlight > this.maxInFlight) this.maxInFlight = inFlight;
  }

  add(s: Sample): void {
    if (s.error !== null) {
      this.fail(s.error, s.status);
      return;
    }
    const latencyMs = s.endAt - s.intendedAt;
    this.ok++;
    if (latencyMs <= this.goodMs) this.good++;
    recordMs(this.latency, latencyMs);
    recordMs(this.ttfb, s.headersAt - s.intendedAt);
    if (s.audioMs > 0) recordMs(this.rtf, latencyMs / s.audioMs);
    this.audioMs += s.audioMs;
    this.tokens += s.tokens;
    this.inputChars += s.payload.inputChars;
  }

  drop(): void {
    this.fail("dropped", 0);
  }

  /** Adds another accumulator's counts and histograms to this one (a window into its step). */
  merge(o: Accumulator): void {
    this.latency.add(o.latency);
    this.ttfb.add(o.ttfb);
    this.rtf.add(o.rtf);
    this.lag.add(o.lag);
    this.sent += o.sent;
    this.ok += o.ok;
    this.good += o.good;
    this.audioMs += o.audioMs;
    this.tokens += o.tokens;
    this.inputChars += o.inputChars;
    this.maxInFlight = Math.max(this.maxInFlight, o.maxInFlight);
    const f = this.failures;
    const g = o.failures;
    f.total += g.total;
    f.http429 += g.http429;
    f.http5xx += g.http5xx;
    f.http4xx += g.http4xx;
    f.transport += g.transport;
    f.dropped += g.dropped;
    for (const [k, v] of Object.entries(g.byCause)) f.byCause[k] = (f.byCause[k] ?? 0) + v;
  }

  private fail(cause: string, status: number): void {
    const f = this.failures;
    f.total++;
    f.byCause[cause] = (f.byCause[cause] ?? 0) + 1;
    if (cause === "dropped") f.dropped++;
    else if (status === 429) f.http429++;
    else if (status >= 500) f.http5xx++;
    else if (status >= 400) f.http4xx++;
    else f.transport++;
  }

  metrics(durationS: number): Metrics {
    const d = Math.max(durationS, 1e-9);
    const latency = percentiles(this.latency);
    const answered = this.ok + this.failures.total;
    const tokensPerRequest = this.ok > 0 ? this.tokens / this.ok : 0;
    const inputCharsPerRequest = this.ok > 0 ? this.inputChars / this.ok : 0;
    return {
      durationS,
      sent: this.sent,
      ok: this.ok,
      failures: { ...this.failures, byCause: { ...this.failures.byCause } },
      errorRate: answered > 0 ? this.failures.total / answered : 0,
      rps: this.ok / d,
      goodput: this.good / d,
      latency,
      ttfb: percentiles(this.ttfb),
      rtf: percentiles(this.rtf),
      audioSecondsPerSecond: this.audioMs / 1000 / d,
      tokensPerSecond: this.tokens / d,
      tokensPerRequest,
      inputCharsPerRequest,
      msPerToken: tokensPerRequest > 0 ? latency.mean / tokensPerRequest : 0,
      msPerInputChar: inputCharsPerRequest > 0 ? latency.mean / inputCharsPerRequest : 0,
      sendLag: percentiles(this.lag),
      maxInFlight: this.maxInFlight,
    };
  }
}

export interface RecorderOptions {
  windowMs: number;
  /** latency bound of the SLO: a faster ok response counts towards goodput */
  goodMs: number;
  onWindow?: (w: WindowSummary) => void;
}

/**
 * Splits a run into steps (load levels) and each step into windows. A runner calls `beginStep`, reports every send,
 * drop and completion, and `endStep` once its last request has finished; windows close on a timer and at the end
 * of each step, so no window spans two steps.
 */
export class Recorder {
  readonly steps: StepSummary[] = [];
  private readonly runStart = performance.now();
  private step: {
    acc: Accumulator;
    started: number;
    startedAtMs: number;
    meta: StepMeta;
    windows: WindowSummary[];
  } | null = null;
  private window: { acc: Accumulator; started: number } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private load = 0;
  private inFlight = () => 0;

  constructor(private readonly options: RecorderOptions) {}

  get elapsedS(): number {
    return (performance.now() - this.runStart) / 1000;
  }

  beginStep(meta: StepMeta, inFlight: () => number, windowMs = this.options.windowMs): void {
    if (this.step) throw new Error("a step is already running");
    const now = performance.now();
    this.load = meta.load;
    this.inFlight = inFlight;
    this.step = { acc: new Accumulator(this.options.goodMs), started: now, startedAtMs: Date.now(), meta, windows: [] };
    this.window = { acc: new Accumulator(this.options.goodMs), started: now };
    this.timer = setInterval(() => this.closeWindow(), windowMs);
  }

  setLoad(load: number): void {
    this.load = load;
  }

  // Each event goes into the current window only; a window is added to its step when it closes.
  sent(lagMs: number | null, inFlight: number): void {
    this.window?.acc.sentOne(lagMs, inFlight);
  }

  completed(s: Sample): void {
    this.window?.acc.add(s);
  }

  dropped(): void {
    this.window?.acc.drop();
  }

  /**
   * Starts the running step's statistics afresh from the open window on (the closed windows are kept for the
   * timeline): a probe calls this after its first window, so connection set-up and the level's transient do not
   * count towards its verdict.
   */
  restartStepStats(): void {
    if (!this.step) return;
    // windows are added to the step as they close, so the step now starts where the open window started
    const since = this.window?.started ?? performance.now();
    this.step.acc = new Accumulator(this.options.goodMs);
    this.step.startedAtMs = Date.now() - (performance.now() - since);
    this.step.started = since;
  }

  /** The windows of the running step so far (for stability checks while it runs). */
  currentWindows(): readonly WindowSummary[] {
    return this.step?.windows ?? [];
  }

  endStep(): StepSummary {
    const step = this.step;
    if (!step) throw new Error("no step is running");
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const now = performance.now();
    // the last, partial window: shown as a window when it is long enough to mean something, counted either way
    if (this.window && now - this.window.started >= 100) this.closeWindow();
    else if (this.window) step.acc.merge(this.window.acc);
    this.window = null;
    this.step = null;
    const summary: StepSummary = {
      ...step.acc.metrics((now - step.started) / 1000),
      phase: step.meta.phase,
      step: step.meta.step,
      load: step.meta.load,
      unit: step.meta.unit,
      startS: (step.started - this.runStart) / 1000,
      startedAtMs: step.startedAtMs,
      endedAtMs: Date.now(),
      windows: step.windows,
    };
    this.steps.push(summary);
    return summary;
  }

  private closeWindow(): void {
    const w = this.window;
    const step = this.step;
    if (!w || !step) return;
    const now = performance.now();
    step.acc.merge(w.acc);
    const summary: WindowSummary = {
      ...w.acc.metrics((now - w.started) / 1000),
      phase: step.meta.phase,
      step: step.meta.step,
      load: this.load,
      unit: step.meta.unit,
      startS: (w.started - this.runStart) / 1000,
      inFlight: this.inFlight(),
    };
    step.windows.push(summary);
    this.window = { acc: new Accumulator(this.options.goodMs), started: now };
    this.options.onWindow?.(summary);
  }
}

export interface StepMeta {
  phase: string;
  step: string;
  load: number;
  unit: "users" | "req/s";
}
