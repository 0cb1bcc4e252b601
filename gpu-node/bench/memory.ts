/**
 * Memory benchmark (issue 14 #1): N concurrent requests at the maximum text length on one gpu-node; the node's RSS
 * is sampled throughout (Linux /proc). Passes when the peak growth over idle stays under the node's memory budget
 * and the RSS, once the node is idle again, is back within 20 % of its idle size.
 *
 *   npm run bench:memory -- [--model gpu-node/models/small] [--concurrency 16] [--budget-mb N] [--chars N]
 *                           [--variants default,arena,glibc-default] [--out gpu-node/bench/results/memory.json]
 *
 * The `small` model (the CPU benchmark size) is generated first when its directory is missing
 * (gpu-node/tools/generate_model.py, random weights). Variants, each a fresh node, so causes can be compared in one
 * run: `default` (onnxruntime's CPU arena off, glibc's mmap threshold pinned, as `npm start` runs the node),
 * `arena` (arena on), `glibc-default` (glibc's dynamic mmap threshold).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { request } from "undici";
import { NODE_MALLOC_ENV } from "../src/adapters/malloc-env.ts";
import { generateModel } from "../tools/python.ts";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "gpu-node/models/tiny" },
    concurrency: { type: "string", default: "16" },
    "budget-mb": { type: "string" },
    variants: { type: "string", default: "default,arena,glibc-default" },
    "idle-s": { type: "string", default: "10" },
    /** shorter texts than the model's maximum (a quick run on a loaded machine); default: the maximum */
    chars: { type: "string" },
    out: { type: "string" },
  },
});
const model = values.model as string;
const concurrency = Number(values.concurrency);
const idleSeconds = Number(values["idle-s"]);

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

async function startNode(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", "gpu-node/src/entry.node.ts", "--port", "0", ...args], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, ...env },
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      out += chunk;
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.once("exit", (code) => reject(new Error(`gpu-node exited with ${code}: ${out}`)));
  });
  return { url, child };
}

const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });

/** The longest text the model takes, in whole words (English: the tokenizer's segments fill up). */
function maxText(maxChars: number): string {
  const words = "the quick brown fox jumps over the lazy dog while seven bright stars rise above quiet hills".split(
    " ",
  );
  let text = "";
  for (let i = 0; ; i++) {
    const next = `${text}${text ? " " : ""}${words[i % words.length]}${i % 12 === 11 ? "." : ""}`;
    if (next.length > maxChars) return text;
    text = next;
  }
}

async function synth(url: string, text: string, seed: number): Promise<number> {
  // no client timeouts: 16 long requests on a loaded CPU may take many minutes before their first byte
  const res = await request(`${url}/synthesize`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ text, speaker_id: 0, emotion: "happy", seed }),
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  await res.body.arrayBuffer();
  return res.statusCode;
}

interface VariantResult {
  variant: string;
  budgetMb: number;
  idleMb: number;
  peakMb: number;
  growthMb: number;
  afterMb: number;
  afterVsIdle: number;
  statuses: Record<string, number>;
  seconds: number;
  underBudget: boolean;
  returned: boolean;
}

async function runVariant(variant: string, text: string): Promise<VariantResult> {
  const args = ["--model", model, "--max-batch", "16", "--max-queue", "64", "--request-timeout-ms", "3600000"];
  if (values["budget-mb"]) args.push("--memory-budget-mb", values["budget-mb"]);
  if (variant === "arena") args.push("--cpu-mem-arena", "1");
  const env = variant === "glibc-default" ? {} : NODE_MALLOC_ENV;
  const { url, child } = await startNode(args, env);
  const pid = child.pid as number;
  try {
    // Idle: after one short warm-up request (sessions initialised), once the node has settled.
    await synth(url, "warm up.", 1);
    await new Promise((r) => setTimeout(r, 2_000));
    const idle = rssBytes(pid);
    let peak = idle;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssBytes(pid));
    }, 50);
    const started = Date.now();
    const statuses: Record<string, number> = {};
    await Promise.all(
      Array.from({ length: concurrency }, async (_, i) => {
        const s = await synth(url, text, 100 + i);
        statuses[s] = (statuses[s] ?? 0) + 1;
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, rssBytes(pid));
    // Back to idle: the lowest RSS over the idle window (the allocator trims lazily).
    let after = rssBytes(pid);
    for (let t = 0; t < idleSeconds * 4; t++) {
      await new Promise((r) => setTimeout(r, 250));
      after = Math.min(after, rssBytes(pid));
    }
    const log = await fetch(`${url}/healthz`).then((r) => r.json() as Promise<Record<string, unknown>>);
    const budgetMb = Number(log.memory_budget_mb ?? values["budget-mb"] ?? Number.NaN);
    const mb = (b: number) => Math.round(b / 2 ** 20);
    return {
      variant,
      budgetMb,
      idleMb: mb(idle),
      peakMb: mb(peak),
      growthMb: mb(peak - idle),
      afterMb: mb(after),
      afterVsIdle: Number((after / idle).toFixed(3)),
      statuses,
      seconds,
      underBudget: Number.isNaN(budgetMb) ? false : mb(peak - idle) <= budgetMb,
      returned: after <= idle * 1.2,
    };
  } finally {
    await stop(child);
  }
}

if (!existsSync(`${model}/manifest.json`)) {
  const size = /(tiny|small|full)$/.exec(model)?.[1];
  if (!size) throw new Error(`no model at ${model}`);
  generateModel(size, model);
}
const manifest = JSON.parse(readFileSync(`${model}/manifest.json`, "utf8")) as {
  name: string;
  random_weights: boolean;
  limits: { max_text_chars: number };
};
const text = maxText(Math.min(Number(values.chars ?? Number.POSITIVE_INFINITY), manifest.limits.max_text_chars));
const results: VariantResult[] = [];
for (const variant of (values.variants as string).split(",")) results.push(await runVariant(variant, text));

console.log(
  `model ${manifest.name}${manifest.random_weights ? " (RANDOM weights)" : ""}; ${concurrency} concurrent requests of ${text.length} characters`,
);
console.table(results);
if (values.out) {
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(
    values.out,
    `${JSON.stringify({ model: manifest.name, concurrency, chars: text.length, results }, null, 2)}\n`,
  );
}
const main = results.find((r) => r.variant === "default");
if (main && !(main.underBudget && main.returned)) process.exitCode = 1;
