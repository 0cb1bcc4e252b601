import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seededRng } from "../../capacity/src/core/rng.ts";
import { constantRate } from "../../capacity/src/load/arrivals.ts";
import { runClosed } from "../../capacity/src/load/closed.ts";
import { HttpExecutor } from "../../capacity/src/load/executor.ts";
import { runOpen } from "../../capacity/src/load/open.ts";
import { fixedUsers, stepUsers } from "../../capacity/src/load/shapes.ts";
import { Recorder } from "../../capacity/src/load/stats.ts";
import { probeStopper } from "../../capacity/src/search/probe.ts";
import { type ProbeOutcome, searchCapacity } from "../../capacity/src/search/search.ts";
import { DEFAULT_SLO } from "../../capacity/src/search/slo.ts";
import { type LocalServer, startQueueServer, startTrivialServer } from "../../capacity/src/testing/servers.ts";

const payload = { id: "p", inputChars: 29, body: "{}" };
const pick = () => payload;

describe("the load generator over real HTTP on 127.0.0.1", () => {
  let trivial: LocalServer;
  beforeAll(async () => {
    trivial = await startTrivialServer();
  });
  afterAll(async () => {
    await trivial.close();
  });

  const executor = (url: string, connections = 64) =>
    new HttpExecutor({ origin: url, path: "/synthesize", headers: {}, connections, timeoutMs: 5000 });

  it("open model: sends the scheduled number of requests at the scheduled rate", async () => {
    const ex = executor(trivial.url);
    const rec = new Recorder({ windowMs: 500, goodMs: 1000 });
    const before = trivial.served();
    const s = await runOpen({
      executor: ex,
      recorder: rec,
      pick,
      segments: constantRate(200, 1500),
      process: "uniform",
      rng: seededRng(1),
      maxInFlight: 1000,
      phase: "t",
      step: "200/s",
    });
    await ex.close();
    expect(s.sent).toBe(300);
    expect(s.ok).toBe(300);
    expect(trivial.served() - before).toBe(300);
    // on an idle machine this is within 1 % (capacity/BENCHMARKS.md); a busy shared one delays the timers
    expect(s.rps).toBeGreaterThan(200 * 0.5);
    expect(s.rps).toBeLessThan(200 * 1.05);
    expect(s.durationS).toBeGreaterThanOrEqual(1.5);
    expect(s.windows.length).toBeGreaterThanOrEqual(3);
    expect(s.audioSecondsPerSecond).toBeCloseTo(s.rps, 0); // the server claims 1 s of audio per answer
  });

  it("open model: a server slower than the arrivals shows its queue in the latency and drops at the cap", async () => {
    // one slot of 100 ms: capacity 10 req/s, offered 20 req/s for 1.5 s
    const slow = await startQueueServer({ slots: 1, serviceMs: 100 });
    const ex = executor(slow.url, 256);
    const rec = new Recorder({ windowMs: 500, goodMs: 1000 });
    const s = await runOpen({
      executor: ex,
      recorder: rec,
      pick,
      segments: constantRate(20, 1500),
      process: "uniform",
      rng: seededRng(1),
      maxInFlight: 10,
      phase: "t",
      step: "overload",
    });
    await ex.close();
    await slow.close();
    expect(s.failures.dropped).toBeGreaterThan(0);
    expect(s.sent + s.failures.dropped).toBe(30);
    // the requests that were sent waited behind each other: up to ~10 × 100 ms, timed from the intended send
    expect(s.latency.max).toBeGreaterThan(700);
    expect(s.rps).toBeLessThan(11);
  });

  it("closed model: users × (1 / wait) requests per second, spawned at the spawn rate", async () => {
    const ex = executor(trivial.url);
    const rec = new Recorder({ windowMs: 500, goodMs: 1000 });
    const s = await runClosed({
      executor: ex,
      recorder: rec,
      pick,
      shape: fixedUsers(4, 100, 2),
      wait: [0.1, 0.1],
      rng: seededRng(1),
      phase: "t",
      step: "4 users",
    });
    expect(s.load).toBe(4);
    // 4 users each ~10 requests a second (100 ms wait + a fast answer) for 2 s
    expect(s.ok).toBeGreaterThan(60);
    expect(s.ok).toBeLessThan(84);

    const ramp = await runClosed({
      executor: ex,
      recorder: rec,
      pick,
      shape: stepUsers({ start: 2, step: 2, everyS: 0.5, max: 6, holdS: 0.5 }),
      wait: [0.05, 0.1],
      rng: seededRng(2),
      phase: "t",
      step: "ramp",
    });
    await ex.close();
    expect(ramp.load).toBe(6);
    const loads = ramp.windows.map((w) => w.load);
    expect(loads[0]).toBeLessThan(6);
    expect(Math.max(...loads)).toBe(6);
  });

  it("closed vs open on a server that stalls: the closed model hides the stall, the open model shows it", async () => {
    // 4 slots of 20 ms; half a second in, 300 other requests arrive at once and hold every slot for 1.5 s
    const server = await startQueueServer({ slots: 4, serviceMs: 20 });
    const stall = () => fetch(`${server.url}/stall`, { method: "POST" }).then((r) => r.text());
    const measure = async (model: "open" | "closed") => {
      const ex = executor(server.url, 64);
      // goodput counts answers within 500 ms: 1 − goodput / ok/s is the share of slow answers
      const rec = new Recorder({ windowMs: 1000, goodMs: 500 });
      const stalled = new Promise<void>((resolve) =>
        setTimeout(() => void Promise.all(Array.from({ length: 300 }, () => stall())).then(() => resolve()), 500),
      );
      const run =
        model === "open"
          ? runOpen({
              executor: ex,
              recorder: rec,
              pick,
              segments: constantRate(20, 3000),
              process: "uniform",
              rng: seededRng(1),
              maxInFlight: 1000,
              phase: "t",
              step: model,
            })
          : runClosed({
              executor: ex,
              recorder: rec,
              pick,
              shape: fixedUsers(1, 100, 3),
              wait: [0.03, 0.03],
              rng: seededRng(1),
              phase: "t",
              step: model,
            });
      const [s] = await Promise.all([run, stalled]);
      await ex.close();
      return { s, slowShare: 1 - s.goodput / s.rps };
    };
    const open = await measure("open");
    const closed = await measure("closed");
    await server.close();
    // The closed user met the stall in one request (its max) and most of its answers were fast; the open model's
    // arrivals kept coming during the stall, so every one of them waited.
    expect(closed.s.latency.max).toBeGreaterThan(1000);
    expect(open.s.latency.max).toBeGreaterThan(1000);
    expect(open.slowShare).toBeGreaterThan(0.3);
    expect(open.slowShare).toBeGreaterThan(2 * closed.slowShare);
  });

  it("finds a queueing server's known capacity (slots ÷ service time) with steps, bisection and stability checks", async () => {
    // 2 slots × 50 ms = 40 req/s at most; the SLO is p95 ≤ 300 ms (bounds loose enough for a busy shared machine)
    const server = await startQueueServer({ slots: 2, serviceMs: 50 });
    const ex = executor(server.url, 256);
    const rec = new Recorder({ windowMs: 300, goodMs: 300 });
    const slo = { ...DEFAULT_SLO, boundMs: 300 };
    const stability = { windows: 3, tolerance: 0.15 };
    const probe = async (rate: number): Promise<ProbeOutcome> => {
      const stopper = probeStopper(rec, slo, stability);
      const step = await runOpen({
        executor: ex,
        recorder: rec,
        pick,
        segments: constantRate(rate, 2500),
        process: "uniform",
        rng: seededRng(1),
        maxInFlight: 1000,
        phase: "search",
        step: `${rate}`,
        shouldStop: stopper.shouldStop,
      });
      return { step, stable: stopper.stable(step.windows) };
    };
    const r = await searchCapacity(probe, {
      slo,
      start: 10,
      max: 200,
      growth: 2,
      precision: 0.15,
      integer: false,
      min: 1,
    });
    await ex.close();
    await server.close();
    // Below the true 40 req/s only by what a loaded machine costs the server and the generator (seen: 11.25 with two
    // other test runs beside it); never above it, and the first failing rate is above what it calls the capacity.
    expect(r.capacity).toBeGreaterThan(40 * 0.2);
    expect(r.capacity).toBeLessThanOrEqual(40 * 1.15);
    expect(r.firstFail).toBeGreaterThan(r.capacity);
    expect(r.goodput).toBeGreaterThan(r.capacity * 0.8);
  });
});
