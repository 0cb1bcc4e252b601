/**
 * /healthz latency on a saturated node, engine on the HTTP thread vs on its worker thread (issue 13 §4).
 *
 *   npx tsx gpu-node/bench/healthz.ts [--model gpu-node/models/tiny] [--seconds 15] [--rounds 2] [--concurrency 16]
 *
 * For each round and mode (main, then worker, alternating so the machine's load hits both alike) it starts the real
 * node (`--engine-thread main|worker`), keeps `concurrency` /synthesize requests in flight (closed loop), and polls
 * /healthz every 10 ms from the same process, recording each probe's latency; then prints p50/p99/max per mode.
 */
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { startNode } from "./load.ts";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "gpu-node/models/tiny" },
    seconds: { type: "string", default: "15" },
    rounds: { type: "string", default: "2" },
    concurrency: { type: "string", default: "16" },
    "num-beams": { type: "string", default: "3" },
  },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const TEXT = "The quick brown fox jumps over the lazy dog, again and again, until the sun goes down over the hills.";

const quantile = (xs: number[], q: number) => {
  const s = xs.toSorted((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};

async function measure(mode: "main" | "worker") {
  const node = await startNode([
    "--model",
    values.model,
    "--max-batch",
    "32",
    "--max-queue",
    "256",
    "--engine-thread",
    mode,
    "--num-beams",
    values["num-beams"],
  ]);
  const pool = new Pool(node.url, { connections: concurrency + 4 });
  const end = performance.now() + seconds * 1000;
  let completed = 0;
  const worker = async () => {
    while (performance.now() < end) {
      const res = await pool.request({
        path: "/synthesize",
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: TEXT, speaker_id: 0 }),
      });
      await res.body.arrayBuffer();
      if (res.statusCode === 200) completed++;
    }
  };
  const load = Array.from({ length: concurrency }, worker);
  // let the batch fill before probing
  await new Promise((r) => setTimeout(r, 1000));
  const probes: number[] = [];
  while (performance.now() < end) {
    const t = performance.now();
    const res = await pool.request({ path: "/healthz", method: "GET" });
    await res.body.text();
    probes.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 10));
  }
  await Promise.all(load);
  await pool.close();
  await node.stop();
  return { mode, probes, completed };
}

const results: Record<string, { probes: number[]; completed: number }> = {
  main: { probes: [], completed: 0 },
  worker: { probes: [], completed: 0 },
};
for (let round = 0; round < Number(values.rounds); round++) {
  for (const mode of ["main", "worker"] as const) {
    const r = await measure(mode);
    results[mode]?.probes.push(...r.probes);
    if (results[mode]) results[mode].completed += r.completed;
    console.error(
      `round ${round + 1} ${mode}: ${r.probes.length} probes, p99 ${quantile(r.probes, 0.99).toFixed(1)} ms`,
    );
  }
}
console.log(
  `/healthz under ${concurrency} concurrent /synthesize (${values.model}, beams ${values["num-beams"]}, ${seconds} s × ${values.rounds} rounds per mode)`,
);
console.log("| engine thread | probes | p50 ms | p99 ms | max ms | requests completed |");
console.log("|---|---|---|---|---|---|");
for (const [mode, r] of Object.entries(results)) {
  const p = r.probes;
  console.log(
    `| ${mode} | ${p.length} | ${quantile(p, 0.5).toFixed(1)} | ${quantile(p, 0.99).toFixed(1)} | ${Math.max(...p).toFixed(1)} | ${r.completed} |`,
  );
}
