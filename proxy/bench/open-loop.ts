/**
 * An open-model HTTP load generator: requests are sent at a fixed arrival rate on a precomputed schedule, whatever the
 * server does, and each latency is measured from the request's INTENDED send time. A server that stalls therefore
 * shows the whole stall in every request scheduled behind it (no coordinated omission), and a generator that falls
 * behind its schedule shows up as latency too, never as a quietly lower rate.
 *
 * The schedule is driven by a timer loop (Node timers have a 1 ms resolution): each tick sends every request whose
 * intended time has passed. Spinning instead would take a core from the proxy on a small machine; the cost of the
 * timer is a dispatch lag of up to about 1 ms, the same for every target, reported as `dispatchLag`.
 */
import type { Readable } from "node:stream";
import { build, type Histogram } from "hdr-histogram-js";
import { Pool } from "undici";

export interface Target {
  /** http://127.0.0.1:PORT */
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** a 200 must carry exactly this many body bytes */
  expectBytes: number;
  /** when true, the X-Request-Id of every 200 is collected (to match answered requests against stored rows) */
  collectRequestIds?: boolean;
}

export interface StepOptions {
  /** requests per second */
  rate: number;
  durationMs: number;
  /** requests outstanding beyond this are not sent but counted as dropped */
  maxInFlight: number;
  /** per-request headers and body deadline; a request still open after it counts as an error */
  requestTimeoutMs: number;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface StepResult {
  rate: number;
  durationS: number;
  scheduled: number;
  sent: number;
  ok: number;
  /** responses with status 200, whole body or not (each one means a usage row was committed) */
  http200: number;
  dropped: number;
  errors: Record<string, number>;
  errorCount: number;
  /** OK responses per second, over max(duration, first intended send → last completion) */
  achievedRps: number;
  /** ms, from the intended send time to the end of the response body: what the bench reports */
  latency: LatencySummary;
  /** ms, from the actual send to the end of the response body (diagnostic: excludes the generator's dispatch lag) */
  service: LatencySummary;
  /** ms, actual send − intended send */
  dispatchLag: LatencySummary;
  maxInFlight: number;
  /** the X-Request-Id of every 200 (only with `Target.collectRequestIds`) */
  ids200: string[];
  /** the histograms themselves, for callers that combine them */
  histograms: { latency: Histogram; service: Histogram };
}

const newHistogram = () =>
  build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });

/** Histograms record microseconds; summaries are in milliseconds. */
export function summarize(h: Histogram): LatencySummary {
  const ms = (us: number) => us / 1000;
  return {
    count: h.totalCount,
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
    mean: ms(h.mean),
  };
}

function consume(body: Readable): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0;
    body.on("data", (chunk: Buffer) => {
      n += chunk.byteLength;
    });
    body.once("end", () => resolve(n));
    body.once("error", reject);
  });
}

export class OpenLoopClient {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly connections: number) {}

  private pool(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, { connections: this.connections, pipelining: 1, keepAliveTimeout: 60_000 });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  /** One request, awaited (set-up and smoke checks). */
  async once(target: Target): Promise<{ status: number; headers: Record<string, string>; bytes: number }> {
    const res = await this.pool(target.origin).request({
      method: "POST",
      path: target.path,
      headers: target.headers,
      body: target.body,
    });
    const bytes = await consume(res.body);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") headers[k] = v;
    return { status: res.statusCode, headers, bytes };
  }

  /** Runs one step at a fixed arrival rate and resolves once every request sent has finished. */
  run(target: Target, options: StepOptions): Promise<StepResult> {
    const pool = this.pool(target.origin);
    const period = 1000 / options.rate;
    const scheduled = Math.round((options.rate * options.durationMs) / 1000);
    const latency = newHistogram();
    const service = newHistogram();
    const lag = newHistogram();
    const errors: Record<string, number> = {};
    const fail = (why: string) => {
      errors[why] = (errors[why] ?? 0) + 1;
    };
    let sent = 0;
    let ok = 0;
    let http200 = 0;
    const ids200: string[] = [];
    let dropped = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    let next = 0;
    let lastCompletion = 0;
    let allSent = false;
    // Start a little ahead so the first tick is not already late.
    const start = performance.now() + 5;

    return new Promise<StepResult>((resolve) => {
      const finish = () => {
        const spanMs = Math.max(options.durationMs, lastCompletion - start);
        const errorCount = Object.values(errors).reduce((a, b) => a + b, 0);
        resolve({
          rate: options.rate,
          durationS: options.durationMs / 1000,
          scheduled,
          sent,
          ok,
          http200,
          dropped,
          errors,
          errorCount,
          achievedRps: ok / (spanMs / 1000),
          latency: summarize(latency),
          service: summarize(service),
          dispatchLag: summarize(lag),
          maxInFlight,
          ids200,
          histograms: { latency, service },
        });
      };
      const fire = (intended: number, now: number) => {
        if (inFlight >= options.maxInFlight) {
          dropped++;
          return;
        }
        sent++;
        inFlight++;
        if (inFlight > maxInFlight) maxInFlight = inFlight;
        lag.recordValue(Math.max(0, Math.round((now - intended) * 1000)));
        const done = (good: boolean) => {
          const end = performance.now();
          if (good) {
            ok++;
            latency.recordValue(Math.max(1, Math.round((end - intended) * 1000)));
            service.recordValue(Math.max(1, Math.round((end - now) * 1000)));
          }
          lastCompletion = end;
          inFlight--;
          if (allSent && inFlight === 0) finish();
        };
        pool
          .request({
            method: "POST",
            path: target.path,
            headers: target.headers,
            body: target.body,
            headersTimeout: options.requestTimeoutMs,
            bodyTimeout: options.requestTimeoutMs,
          })
          .then(
            async (res) => {
              if (res.statusCode === 200) {
                http200++;
                const id = res.headers["x-request-id"];
                if (target.collectRequestIds && typeof id === "string") ids200.push(id);
              }
              const bytes = await consume(res.body);
              if (res.statusCode !== 200) {
                fail(`http_${res.statusCode}`);
                done(false);
              } else if (bytes !== target.expectBytes) {
                fail("short_body");
                done(false);
              } else {
                done(true);
              }
            },
            (e: unknown) => {
              fail((e as { code?: string }).code ?? (e as Error).name ?? "error");
              done(false);
            },
          )
          .catch((e: unknown) => {
            fail(`body_${(e as { code?: string }).code ?? "error"}`);
            done(false);
          });
      };
      const tick = () => {
        const now = performance.now();
        while (next < scheduled) {
          const intended = start + next * period;
          if (intended > now) break;
          fire(intended, now);
          next++;
        }
        if (next < scheduled) {
          setTimeout(tick, Math.max(0, Math.floor(start + next * period - performance.now())));
        } else {
          allSent = true;
          if (inFlight === 0) finish();
        }
      };
      setTimeout(tick, 5);
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
  }
}
