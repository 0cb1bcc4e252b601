/**
 * Host-cache loop vs resident-cache loop on the CPU, in one run (issue 13 §7): two nodes side by side
 * (`--decode-loop host|resident`, same max batch), each level measured on one right after the other, with 1 and 3
 * beams; prints audio s/s, their ratio, and the bytes across the host boundary per generated token from /metrics.
 *
 *   npm run bench:loops -- [--model gpu-node/models/small] [--concurrency 16] [--rounds 1] [--max-tokens N]
 *                          [--beams 1,3] [--requests N] [--long] [--repeat N]
 *
 * `--repeat N` runs each beams level N times per loop in the order host, resident, resident, host, … (ABBA, so a
 * load that drifts through the run weighs on both loops alike) and reports the ratio of the loops' mean rates.
 *
 * `--long --max-tokens 100` vs `--long --max-tokens 1000` shows how the bytes per generated token grow with the
 * history: every request is one ~110-token segment, so it generates exactly max-tokens codes (random weights) and
 * its history runs up to max-tokens. "decode loop" counts only the decode graphs (gpt_decode*, cache_*), "all
 * graphs" adds prefill, DiT and vocoder traffic spread over the same tokens.
 *
 * The model directory needs the resident graphs (generate_model.py writes them; for an older directory:
 * `python3 gpu-node/tools/resident_graphs.py DIR`).
 */
import { parseArgs } from "node:util";
import { runLevel, startNode } from "./load.ts";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "gpu-node/models/small" },
    concurrency: { type: "string", default: "16" },
    rounds: { type: "string", default: "1" },
    "max-tokens": { type: "string" },
    threads: { type: "string", default: "2" },
    beams: { type: "string", default: "1,3" },
    requests: { type: "string" },
    long: { type: "boolean" },
    repeat: { type: "string", default: "1" },
  },
});
const concurrency = Number(values.concurrency);
const TEXTS = [
  "Hello, this is a test of the speech service.",
  "Good morning, the meeting starts at nine.",
  "今天的天气非常好,适合出去散步。",
  "Please confirm your order number.",
];
// one GPT segment of about 110 text tokens (under the 120-token segment limit), so 1,000 codes fit in one history
const LONG =
  "The quarterly report shows that revenue grew in every region, while costs stayed flat. Our team shipped the new " +
  "billing portal, moved the ledger to a durable store, and cut the median latency of the speech service by a " +
  "third. Next quarter we will add two voices, open the batch endpoint to every plan, and publish the prices.";
const payload = (beams: number) => (i: number) => ({
  text: values.long ? LONG : TEXTS[i % TEXTS.length],
  speaker_id: i % 3,
  seed: i,
  num_beams: beams,
  ...(values["max-tokens"] !== undefined ? { max_tokens: Number(values["max-tokens"]) } : {}),
});

async function boundary(url: string) {
  const text = await (await fetch(`${url}/metrics`)).text();
  let bytes = 0;
  let decodeBytes = 0;
  for (const m of text.matchAll(/^gpu_node_boundary_bytes_total\{([^}]*)\} ([0-9.e+-]+)$/gm)) {
    bytes += Number(m[2]);
    if (/graph="(gpt_decode|cache_)/.test(m[1] ?? "")) decodeBytes += Number(m[2]);
  }
  const tokens = Number(/^gpu_node_generated_tokens_total ([0-9.e+-]+)$/m.exec(text)?.[1] ?? Number.NaN);
  return { bytes, decodeBytes, tokens };
}

const loops = ["host", "resident"] as const;
const nodes = await Promise.all(
  loops.map((loop) =>
    startNode([
      "--model",
      values.model,
      "--max-batch",
      "48",
      "--max-queue",
      "256",
      "--intra-op-threads",
      values.threads,
      "--request-timeout-ms",
      "600000",
      "--decode-loop",
      loop,
    ]),
  ),
);
try {
  for (const node of nodes) await runLevel(node.url, 1, 1, payload(1)); // warm-up
  console.log(`concurrency ${concurrency}, model ${values.model}`);
  console.log(
    "| beams | loop | requests | audio s/s | p50 ms | mean GPT batch | bytes across the boundary per generated token: decode loop | all graphs | audio s per node CPU s |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|");
  const ratios: string[] = [];
  const repeat = Number(values.repeat);
  for (const beams of values.beams.split(",").map(Number)) {
    const rates: number[][] = [[], []];
    const perCpu: number[][] = [[], []];
    const order = Array.from({ length: repeat }, (_, k) => (k % 2 === 0 ? [0, 1] : [1, 0])).flat();
    for (const i of order) {
      const loop = loops[i];
      const node = nodes[i];
      if (!node) continue;
      const before = await boundary(node.url);
      const r = await runLevel(
        node.url,
        concurrency,
        values.requests !== undefined ? Number(values.requests) : Math.max(16, Number(values.rounds) * concurrency),
        payload(beams),
        node.child.pid,
      );
      const after = await boundary(node.url);
      const tokens = after.tokens - before.tokens;
      const perToken = (after.bytes - before.bytes) / tokens;
      const decodePerToken = (after.decodeBytes - before.decodeBytes) / tokens;
      rates[i]?.push(r.audioSecondsPerSecond);
      if (r.audioSecondsPerCpuSecond !== undefined) perCpu[i]?.push(r.audioSecondsPerCpuSecond);
      console.log(
        `| ${beams} | ${loop} | ${r.requests} | ${r.audioSecondsPerSecond.toFixed(3)} | ${r.p50Ms.toFixed(0)} | ${r.meanBatch.toFixed(1)} | ${Math.round(decodePerToken).toLocaleString("en")} | ${Math.round(perToken).toLocaleString("en")} | ${r.audioSecondsPerCpuSecond?.toFixed(3) ?? "?"} |`,
      );
    }
    const mean = (xs: number[] | undefined) => (xs ?? []).reduce((a, b) => a + b, 0) / (xs?.length || Number.NaN);
    ratios.push(
      `beams ${beams}: resident / host = ${(mean(rates[1]) / mean(rates[0])).toFixed(3)} ` +
        `(per node CPU s ${(mean(perCpu[1]) / mean(perCpu[0])).toFixed(3)}, ${repeat} run(s) per loop)`,
    );
  }
  console.log(ratios.join("; "));
} finally {
  await Promise.all(nodes.map((n) => n.stop()));
}
