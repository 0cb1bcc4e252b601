/**
 * Open-model schedule accuracy: the generator runs a fixed arrival rate (1,000 req/s by default) against the trivial
 * server in its own process and reports the achieved sending rate (requests sent ÷ the schedule's length, and ÷ the
 * span from the first to the last actual send), the completed rate, and the send lag (actual − intended send time)
 * percentiles. Targets: achieved within 1 % of the target, p99 send lag ≤ 2 ms.
 *
 *   npx tsx capacity/bench/schedule-accuracy.ts [--rate 1000] [--seconds 10] [--rounds 3] [--arrivals uniform,poisson]
 */
import { parseArgs } from "node:util";
import { seededRng } from "../src/core/rng.ts";
import { arrivalTimes, constantRate } from "../src/load/arrivals.ts";
import { HttpExecutor } from "../src/load/executor.ts";
import { runOpen } from "../src/load/open.ts";
import { Recorder } from "../src/load/stats.ts";
import { payloadsFor } from "../src/payloads/profiles.ts";
import { log, machine, startServer } from "./common.ts";

const { values } = parseArgs({
  options: {
    rate: { type: "string", default: "1000" },
    seconds: { type: "string", default: "10" },
    rounds: { type: "string", default: "3" },
    arrivals: { type: "string", default: "uniform,poisson" },
  },
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const payload = payloadsFor("node", "article")[0];
if (!payload) throw new Error("no payload");

const server = await startServer();
const executor = new HttpExecutor({
  origin: server.ready,
  path: "/synthesize",
  headers: {},
  connections: 256,
  timeoutMs: 10_000,
});
try {
  log(`schedule accuracy: ${machine()}`);
  log(`target ${rate} req/s for ${seconds} s per run, server ${server.ready} (own process)`);
  // untimed warm-up: JIT, connections
  await runOpen({
    executor,
    recorder: new Recorder({ windowMs: 1000, goodMs: 1000 }),
    pick: () => payload,
    segments: constantRate(rate, 2000),
    process: "uniform",
    rng: seededRng(0),
    maxInFlight: 10_000,
    phase: "warmup",
    step: "warmup",
  });
  for (const arrivals of values.arrivals.split(",") as ("uniform" | "poisson")[]) {
    for (let round = 1; round <= Number(values.rounds); round++) {
      let first = Number.POSITIVE_INFINITY;
      let last = 0;
      const recorder = new Recorder({ windowMs: 1000, goodMs: 1000 });
      const s = await runOpen({
        executor: {
          send: (p, intended, done) => {
            const now = performance.now();
            first = Math.min(first, now);
            last = Math.max(last, now);
            executor.send(p, intended, done);
          },
        } as HttpExecutor,
        recorder,
        pick: () => payload,
        segments: constantRate(rate, seconds * 1000),
        process: arrivals,
        rng: seededRng(round),
        maxInFlight: 10_000,
        phase: "bench",
        step: arrivals,
      });
      // the schedule itself (a Poisson draw has its own count: sent must equal it, not rate × seconds)
      const scheduled = [...arrivalTimes(constantRate(rate, seconds * 1000), arrivals, seededRng(round))].length;
      const sentRate = s.sent / seconds;
      const spanRate = (s.sent - 1) / ((last - first) / 1000);
      log(
        `  ${arrivals.padEnd(8)} round ${round}: scheduled ${scheduled}, sent ${s.sent} (${sentRate.toFixed(1)} req/s over the schedule, ${((sentRate / rate - 1) * 100).toFixed(2)} %; ${spanRate.toFixed(1)} req/s first→last send), ok ${s.ok}, dropped ${s.failures.dropped}; send lag p50 ${s.sendLag.p50.toFixed(3)} ms p99 ${s.sendLag.p99.toFixed(3)} ms max ${s.sendLag.max.toFixed(2)} ms; latency p50 ${s.latency.p50.toFixed(2)} ms p99 ${s.latency.p99.toFixed(2)} ms`,
      );
    }
  }
  log(`after: ${machine()}`);
} finally {
  await executor.close();
  await server.stop();
}
