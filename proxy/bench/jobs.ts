/**
 * Batch QoS benchmark: interactive latency with and without a batch backlog draining, in one run.
 *
 * Processes: a slot node (proxy/src/jobs/testing/slot-node.ts: a modelled GPU node — fixed slots, interactive-first
 * admission, reserved interactive slots, a per-row batching cost — answering silent WAV; NOT the model), the real
 * proxy (proxy/src/entry.node.ts: SQLite, disk results, the batch feeder in its process), and this generator.
 *
 * Interactive load: POST /v1/tts at a fixed arrival rate (open model, latency from the intended send time). Rounds
 * alternate A (no backlog) and B (a job of `--items` queued and draining; cancelled at the end of the round), so slow
 * drift of the shared machine's load hits both alike. Reported: pooled p50/p95/p99 of A and B, p95(B)/p95(A), the batch
 * items done during B, the machine's load average. Target: p95(B) ≤ 1.15 × p95(A).
 *
 *   npm run bench:jobs -- [--rate 20] [--round-seconds 10] [--rounds 6] [--service-ms 200] [--contention 0.02]
 *                          [--slots 16] [--reserved 4] [--headroom 2] [--per-node 4] [--items 3000] [--json out.json]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { build, type Histogram } from "hdr-histogram-js";
import { adminClient, benchCustomer } from "./admin.ts";
import { type Child, startChild } from "./children.ts";
import { cpuMeter } from "./cpu.ts";
import { OpenLoopClient, summarize, type Target } from "./open-loop.ts";

const { values: args } = parseArgs({
  options: {
    rate: { type: "string", default: "20" },
    "round-seconds": { type: "string", default: "10" },
    rounds: { type: "string", default: "6" },
    "service-ms": { type: "string", default: "200" },
    contention: { type: "string", default: "0.02" },
    slots: { type: "string", default: "16" },
    reserved: { type: "string", default: "4" },
    headroom: { type: "string", default: "2" },
    "per-node": { type: "string", default: "4" },
    items: { type: "string", default: "3000" },
    json: { type: "string" },
  },
});
const n = (k: keyof typeof args) => Number(args[k]);
const RATE = n("rate");
const ROUND_MS = n("round-seconds") * 1000;
const ROUNDS = n("rounds");
const ADMIN = "bench-jobs-admin-token-0123456789";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const histogram = (): Histogram =>
  build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), "bench-jobs-"));
  const children: Child[] = [];
  const client = new OpenLoopClient(64);
  const load = { start: loadavg(), end: [0, 0, 0] };
  try {
    const node = await startChild("slot-node", ["--import", "tsx", "proxy/src/jobs/testing/slot-node-main.ts"], {
      env: {
        SLOT_SLOTS: args.slots,
        SLOT_RESERVED_INTERACTIVE: args.reserved,
        SLOT_SERVICE_MS: args["service-ms"],
        SLOT_CONTENTION: args.contention,
        SLOT_MAX_QUEUE: "256",
      },
      ready: /slot node listening on (http:\/\/\S+)/,
    });
    children.push(node);
    const proxy = await startChild("proxy", ["--import", "tsx", "proxy/src/entry.node.ts"], {
      env: {
        PORT: "0",
        DATA_DIR: dataDir,
        ADMIN_TOKEN: ADMIN,
        GPU_NODES: node.ready,
        IP_RATE_PER_SECOND: "100000",
        IP_BURST: "100000",
        JOBS_HEADROOM_SLOTS: args.headroom,
        JOBS_BATCH_SLOTS_PER_NODE: args["per-node"],
      },
      ready: /proxy listening on (http:\/\/\S+)/,
    });
    children.push(proxy);
    const origin = proxy.ready;
    const { key } = await benchCustomer(adminClient(origin, ADMIN), {
      unitPriceMicrosPer1k: 20_000,
      limit: 100_000,
    });
    const batchKey = readFileSync(join(dataDir, "demo-batch-key.txt"), "utf8").trim();
    const batch = (method: string, path: string, body?: unknown) =>
      fetch(`${origin}${path}`, {
        method,
        headers: { authorization: `Bearer ${batchKey}`, "content-type": "application/json" },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      }).then((r) => r.json() as Promise<{ id: string; counts: { done: number }; status: string }>);
    const nodeStats = () =>
      fetch(`${node.ready}/stats`).then(
        (r) =>
          r.json() as Promise<{
            running: { interactive: number; batch: number };
            served: { interactive: number; batch: number };
            interactiveQueued: number;
            batchQueued: number;
          }>,
      );

    const target: Target = {
      origin,
      path: "/v1/tts",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ text: "An interactive request while batch work drains.", voice: 0 }),
      expectBytes: 0,
    };
    const probe = await client.once(target);
    if (probe.status !== 200) throw new Error(`interactive probe answered ${probe.status}`);
    target.expectBytes = probe.bytes;
    const step = { rate: RATE, durationMs: ROUND_MS, maxInFlight: 1000, requestTimeoutMs: 30_000 };
    // Warm-up: JIT, connection pools, the node's reports.
    await client.run(target, { ...step, durationMs: 3_000 });

    const pooled = { A: histogram(), B: histogram() };
    const pids = { proxy: proxy.proc.pid ?? 0, node: node.proc.pid ?? 0 };
    const cpu = { A: { proxy: 0, node: 0, machine: 0, wall: 0 }, B: { proxy: 0, node: 0, machine: 0, wall: 0 } };
    const account = (phase: "A" | "B", sample: ReturnType<ReturnType<typeof cpuMeter>>) => {
      cpu[phase].proxy += sample.processes.proxy ?? 0;
      cpu[phase].node += sample.processes.node ?? 0;
      cpu[phase].machine += sample.machineBusyMs;
      cpu[phase].wall += sample.wallMs;
    };
    const rounds: Record<string, unknown>[] = [];
    let batchDone = 0;
    let batchMs = 0;
    for (let r = 0; r < ROUNDS; r++) {
      // A: nothing of batch in flight.
      while ((await nodeStats()).running.batch > 0) await sleep(50);
      const meterA = cpuMeter(pids);
      const a = await client.run(target, step);
      account("A", meterA());
      pooled.A.add(a.histograms.latency);
      // B: a backlog draining throughout the round.
      const items = Array.from({ length: n("items") }, (_, i) => ({ text: `Batch paragraph ${r}.${i}.` }));
      const job = await batch("POST", "/v1/jobs", { items });
      while ((await nodeStats()).running.batch === 0) await sleep(20);
      const before = await batch("GET", `/v1/jobs/${job.id}?limit=0`);
      const t0 = performance.now();
      const meterB = cpuMeter(pids);
      const b = await client.run(target, step);
      account("B", meterB());
      const after = await batch("GET", `/v1/jobs/${job.id}?limit=0`);
      batchMs += performance.now() - t0;
      await batch("DELETE", `/v1/jobs/${job.id}`);
      pooled.B.add(b.histograms.latency);
      const doneInB = after.counts.done - before.counts.done;
      batchDone += doneInB;
      if (after.status !== "running") throw new Error(`the backlog ran out during round ${r}: make --items larger`);
      rounds.push({
        round: r,
        a: { p50: a.latency.p50, p95: a.histograms.latency.getValueAtPercentile(95) / 1000, errors: a.errorCount },
        b: { p50: b.latency.p50, p95: b.histograms.latency.getValueAtPercentile(95) / 1000, errors: b.errorCount },
        batch_items_done_in_b: doneInB,
      });
      console.error(`round ${r}: ${JSON.stringify(rounds.at(-1))}`);
    }
    load.end = loadavg();
    const stats = await nodeStats();
    const summary = (h: Histogram) => ({ ...summarize(h), p95: h.getValueAtPercentile(95) / 1000 });
    const A = summary(pooled.A);
    const B = summary(pooled.B);
    const ratio = B.p95 / A.p95;
    const report = {
      command: `npm run bench:jobs -- ${process.argv.slice(2).join(" ")}`.trim(),
      settings: {
        rate: RATE,
        round_seconds: ROUND_MS / 1000,
        rounds: ROUNDS,
        node: {
          slots: n("slots"),
          reserved_interactive: n("reserved"),
          service_ms: n("service-ms"),
          contention_per_row: n("contention"),
        },
        feeder: { headroom_slots: n("headroom"), max_per_node: n("per-node") },
      },
      load_average: { start: load.start.map((x) => x.toFixed(2)), end: load.end.map((x) => x.toFixed(2)) },
      interactive_no_backlog: A,
      interactive_with_backlog: B,
      p95_ratio: ratio,
      target: "p95 with backlog ≤ 1.15 × p95 without",
      pass: ratio <= 1.15,
      batch_items_per_second_during_b: batchDone / (batchMs / 1000),
      batch_items_done_during_b: batchDone,
      cpu_share_of_one_core: Object.fromEntries(
        (["A", "B"] as const).map((p) => [
          p,
          {
            proxy: cpu[p].proxy / cpu[p].wall,
            node: cpu[p].node / cpu[p].wall,
            machine_busy_cores: cpu[p].machine / cpu[p].wall,
          },
        ]),
      ),
      node: stats,
      rounds,
    };
    if (args.json) writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
    const f = (x: number) => x.toFixed(1);
    console.log(
      [
        `jobs QoS bench: ${RATE} interactive req/s, ${ROUNDS} × (${ROUND_MS / 1000} s without + ${ROUND_MS / 1000} s with a draining backlog)`,
        `  node model: ${n("slots")} slots (${n("reserved")} interactive-only), ${n("service-ms")} ms/request, +${n("contention") * 100} % per extra running row; feeder headroom ${n("headroom")}, ≤ ${n("per-node")} batch/node`,
        `  load average: start ${report.load_average.start.join(" ")}, end ${report.load_average.end.join(" ")}`,
        `  no backlog    p50 ${f(A.p50)} ms  p95 ${f(A.p95)} ms  p99 ${f(A.p99)} ms  (${A.count} requests)`,
        `  with backlog  p50 ${f(B.p50)} ms  p95 ${f(B.p95)} ms  p99 ${f(B.p99)} ms  (${B.count} requests)`,
        `  p95 ratio     ${ratio.toFixed(3)}  (target ≤ 1.15: ${report.pass ? "met" : "NOT met"})`,
        `  CPU (cores): proxy ${(cpu.A.proxy / cpu.A.wall).toFixed(2)} without, ${(cpu.B.proxy / cpu.B.wall).toFixed(2)} with backlog; whole machine ${(cpu.A.machine / cpu.A.wall).toFixed(2)} / ${(cpu.B.machine / cpu.B.wall).toFixed(2)} of 2`,
        `  batch during B: ${batchDone} items, ${report.batch_items_per_second_during_b.toFixed(1)} items/s; node: interactive queued ${stats.interactiveQueued}, batch queued ${stats.batchQueued}`,
      ].join("\n"),
    );
  } finally {
    await client.close();
    for (const c of children.reverse()) await c.stop(5_000);
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
