/**
 * Capacity search against a brute-force sweep, on a server whose capacity is known: the queueing server (its own
 * process) with `slots` workers of `service-ms` each (capacity = slots ÷ service time). Both use the same probe
 * (open model, constant arrivals, the level's first window left out, stability check, early stop when clearly
 * over) and the same SLO; the sweep tries every level from `from` in steps of `step` until two levels in a row fail,
 * the search grows ×2 from `from` then bisects to 5 %. Targets: the search's capacity within ±5 % of the sweep's,
 * in at most 1/3 of its time.
 *
 *   npx tsx capacity/bench/search-accuracy.ts [--slots 4] [--service-ms 100] [--slo-ms 300] [--from 4] [--step 1]
 *        [--probe-s 4] [--window-ms 400]
 */
import { parseArgs } from "node:util";
import { seededRng } from "../src/core/rng.ts";
import { constantRate } from "../src/load/arrivals.ts";
import { HttpExecutor } from "../src/load/executor.ts";
import { runOpen } from "../src/load/open.ts";
import { Recorder } from "../src/load/stats.ts";
import { payloadsFor } from "../src/payloads/profiles.ts";
import { probeStopper } from "../src/search/probe.ts";
import { type ProbeOutcome, type ProbeRecord, searchCapacity } from "../src/search/search.ts";
import { DEFAULT_SLO, evaluateSlo, type Slo } from "../src/search/slo.ts";
import { log, machine, startServer } from "./common.ts";

const { values } = parseArgs({
  options: {
    slots: { type: "string", default: "4" },
    "service-ms": { type: "string", default: "100" },
    "slo-ms": { type: "string", default: "300" },
    from: { type: "string", default: "4" },
    step: { type: "string", default: "1" },
    "probe-s": { type: "string", default: "4" },
    "window-ms": { type: "string", default: "400" },
    precision: { type: "string", default: "0.05" },
  },
});
const slots = Number(values.slots);
const serviceMs = Number(values["service-ms"]);
const slo: Slo = { ...DEFAULT_SLO, boundMs: Number(values["slo-ms"]) };
const stability = { windows: 3, tolerance: 0.1 };
const payload = payloadsFor("node", "article")[0];
if (!payload) throw new Error("no payload");

const server = await startServer(["queue", String(slots), String(serviceMs)]);
const executor = new HttpExecutor({
  origin: server.ready,
  path: "/synthesize",
  headers: {},
  connections: 512,
  timeoutMs: 30_000,
});
const recorder = new Recorder({ windowMs: Number(values["window-ms"]), goodMs: slo.boundMs });
const probe = async (rate: number): Promise<ProbeOutcome> => {
  const stopper = probeStopper(recorder, slo, stability);
  const step = await runOpen({
    executor,
    recorder,
    pick: () => payload,
    segments: constantRate(rate, Number(values["probe-s"]) * 1000),
    process: "uniform",
    rng: seededRng(1),
    maxInFlight: 5000,
    phase: "bench",
    step: `${rate}`,
    shouldStop: stopper.shouldStop,
  });
  return { step, stable: stopper.stable(step.windows) };
};
const verdict = (o: ProbeOutcome) => evaluateSlo(o.step, slo).pass && o.stable;

try {
  log(`search accuracy: ${machine()}`);
  log(
    `queueing server ${slots} slots × ${serviceMs} ms = ${((slots * 1000) / serviceMs).toFixed(1)} req/s at most; SLO ${slo.boundMs} ms p95, errors ≤ 1 %`,
  );

  const sweepStart = performance.now();
  let sweepCapacity = 0;
  let failsInARow = 0;
  let levels = 0;
  for (let rate = Number(values.from); failsInARow < 2; rate += Number(values.step)) {
    const o = await probe(rate);
    levels++;
    const pass = verdict(o);
    if (pass) {
      sweepCapacity = rate;
      failsInARow = 0;
    } else failsInARow++;
  }
  const sweepS = (performance.now() - sweepStart) / 1000;
  log(
    `brute-force sweep: ${levels} levels from ${values.from} step ${values.step}: capacity ${sweepCapacity} req/s in ${sweepS.toFixed(1)} s`,
  );

  const r = await searchCapacity(probe, {
    slo,
    start: Number(values.from),
    max: 10_000,
    growth: 2,
    precision: Number(values.precision),
    integer: false,
    min: 0.5,
  });
  const line = (p: ProbeRecord) => `${p.level}${p.pass ? "✓" : "✗"}`;
  log(`search: probes ${r.probes.map(line).join(" ")}: capacity ${r.capacity} req/s in ${r.elapsedS.toFixed(1)} s`);
  log(
    `search ÷ sweep: capacity ${(r.capacity / sweepCapacity).toFixed(3)} (target within ±5 %), time ${(r.elapsedS / sweepS).toFixed(3)} (target ≤ 0.333)`,
  );
  log(`after: ${machine()}`);
} finally {
  await executor.close();
  await server.stop();
}
