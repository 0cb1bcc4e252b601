/**
 * Memory benchmark (issue 14 #1): N concurrent requests at the maximum text length on one gpu-node; the node's RSS
 * is sampled throughout (Linux /proc) and its admitted sum (`memory_reserved_mb`, /healthz) polled.
 *
 *   npm run bench:memory -- [--model gpu-node/models/small] [--concurrency 16] [--chars 4096] [--max-codes N]
 *                           [--beams 1,3] [--budget-mb N | --budget-share 0.25] [--idle-s 40] [--decode-loop host]
 *                           [--variants default,arena,glibc-default] [--out gpu-node/bench/results/memory.json]
 *
 * A request is a customer's text of `--chars` code points (default: the API's limit, 4,096), sent to the node the
 * way the proxy sends it: split into pieces of whole sentences (proxy/src/synthesis/pieces.ts, ≤ 300 code points),
 * all pieces at once, each a node request. `--max-codes N` caps the codes per segment of every node request
 * (`max_tokens`, which the node's memory estimate also uses): random weights never emit the stop token, so without
 * it every segment runs to its full length, which a 2-core machine cannot finish for 16 such requests; the cap is
 * printed with the results. `--beams` runs one variant per beam count (each beam is a GPT batch row with its own
 * cache). The budget: `--budget-mb`, or by default the estimate's shared terms (the KV cache and one graph call's
 * working set) for all node requests at once plus `--budget-share` of what they hold themselves (computed here
 * with the engine's own estimate), never under the largest single one: a full GPT batch fits, all requests at once
 * do not, so admission must queue some of them. The node's default budget (from this host's memory) is printed.
 *
 * Passes when, for every variant: every request answers 200, the RSS growth over idle and the admitted sum stay
 * under the budget, some requests waited for memory (the budget bound), and the RSS, once the node is idle again,
 * is back within 20 % of its idle size. The `small` model (the CPU benchmark size) is generated first when its
 * directory is missing (gpu-node/tools/generate_model.py, random weights). Variants, each a fresh node, so causes
 * can be compared in one run: `default` (onnxruntime's CPU arena off, glibc's mmap threshold pinned, as `npm start`
 * runs the node), `arena` (arena on), `glibc-default` (glibc's dynamic mmap threshold).
 *
 * Recorded (RELIABILITY.md, "16 × 4,096 code points on small"), on the shared 2-core machine:
 *   npx tsx gpu-node/bench/memory.ts --model /work/models/small --max-codes 6 --beams 1 --idle-s 40 \
 *     --out gpu-node/bench/results/memory-small-4096.json
 * Full-length sizes per graph call: gpu-node/bench/memory-stages.ts.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { request } from "undici";
import { MAX_TEXT_CODE_POINTS } from "../../proxy/src/core/text/length.ts";
import { pieceTexts } from "../../proxy/src/synthesis/pieces.ts";
import { availableMemoryBytes } from "../src/adapters/host-memory.ts";
import { NODE_MALLOC_ENV } from "../src/adapters/malloc-env.ts";
import { frontEndOptions, readModelDir } from "../src/adapters/model-dir.ts";
import { defaultMemoryBudgetBytes, memoryModel, requestShare, setBytes } from "../src/engine/memory-budget.ts";
import { planCodes } from "../src/engine/request-state.ts";
import { TextFrontEnd } from "../src/text/tokenizer.ts";
import { generateModel } from "../tools/python.ts";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "gpu-node/models/tiny" },
    concurrency: { type: "string", default: "16" },
    "budget-mb": { type: "string" },
    "budget-share": { type: "string", default: "0.25" },
    variants: { type: "string", default: "default" },
    beams: { type: "string" },
    "max-codes": { type: "string" },
    "idle-s": { type: "string", default: "40" },
    /** code points per customer request; default: the API's limit */
    chars: { type: "string" },
    out: { type: "string" },
    /** the node's --decode-loop (default: the node's, auto) */
    "decode-loop": { type: "string" },
  },
});
const model = values.model as string;
const concurrency = Number(values.concurrency);
const idleSeconds = Number(values["idle-s"]);
const maxCodes = values["max-codes"] ? Number(values["max-codes"]) : undefined;
const MAX_BATCH = 16;

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

/** The longest text of at most `maxChars` code points, in whole words with a sentence every 12 words. */
function maxText(maxChars: number): string {
  const words = "the quick brown fox jumps over the lazy dog while seven bright stars rise above quiet hills".split(
    " ",
  );
  let text = "";
  for (let i = 0; ; i++) {
    const next = `${text}${text ? " " : ""}${words[i % words.length]}${i % 12 === 11 ? "." : ""}`;
    if ([...next].length > maxChars) return text;
    text = next;
  }
}

async function synth(url: string, text: string, seed: number, beams: number): Promise<number> {
  // no client timeouts: 16 long requests on a loaded CPU may take many minutes before their first byte
  const res = await request(`${url}/synthesize`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      text,
      speaker_id: 0,
      emotion: "happy",
      seed,
      num_beams: beams,
      ...(maxCodes !== undefined ? { max_tokens: maxCodes } : {}),
    }),
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  await res.body.arrayBuffer();
  return res.statusCode;
}

interface VariantResult {
  variant: string;
  beams: number;
  nodeRequests: number;
  budgetMb: number;
  /** the most the node's admitted estimates summed to (polled) */
  admittedPeakMb: number;
  /** the most node requests waiting in the node's queue at once (polled) */
  queuedPeak: number;
  /** the largest node request's estimate: an admitted sum within it of the budget means memory held the rest back */
  largestMb: number;
  idleMb: number;
  peakMb: number;
  growthMb: number;
  afterMb: number;
  afterVsIdle: number;
  statuses: Record<string, number>;
  seconds: number;
  underBudget: boolean;
  bound: boolean;
  returned: boolean;
}

const files = await readModelDirOrGenerate();
const manifest = files.manifest;
const frontEnd = new TextFrontEnd(files.bpe, frontEndOptions(files));
const text = maxText(Number(values.chars ?? MAX_TEXT_CODE_POINTS));
const pieces = pieceTexts(text);

/** The sum of every node request's estimate at `beams` (the engine's own estimate, as if all were admitted). */
function estimates(beams: number) {
  const mm = memoryModel(manifest);
  const shares = pieces.map((piece) => {
    const segments = frontEnd
      .segments(piece.trim())
      .filter((s) => s.ids.length > 0)
      .map((s) => s.ids);
    const plan = planCodes(manifest, { segments, ...(maxCodes !== undefined ? { maxTokens: maxCodes } : {}) });
    const g = manifest.gpt;
    return requestShare(mm, {
      speed: 1,
      sampling: { numBeams: beams },
      segments: segments.map((ids) => ({
        textIds: [g.start_text_token, ...ids, g.stop_text_token],
        maxCodes: plan.codesFor(ids),
      })),
    });
  });
  const shape = { maxBatch: MAX_BATCH };
  const largest = Math.max(...shares.map((s) => setBytes(mm, [s], shape)));
  const everyone = Array.from({ length: concurrency }, () => shares).flat();
  const all = setBytes(mm, everyone, shape);
  const own = everyone.reduce((n, s) => n + s.own, 0);
  return { largest, all, own, segments: shares.reduce((n, s) => n + s.segments, 0) };
}

async function runVariant(variant: string, beams: number): Promise<VariantResult> {
  const est = estimates(beams);
  const budgetBytes = values["budget-mb"]
    ? Number(values["budget-mb"]) * 2 ** 20
    : // the shared terms (KV cache, one call's working set) for a full batch, and a share of what requests hold
      Math.max(est.largest, est.all - (1 - Number(values["budget-share"])) * est.own);
  const budgetMb = Math.ceil(budgetBytes / 2 ** 20);
  const args = ["--model", model, "--max-batch", String(MAX_BATCH), "--max-queue", "1024"];
  args.push("--request-timeout-ms", "3600000", "--memory-budget-mb", String(budgetMb));
  if (values["decode-loop"]) args.push("--decode-loop", values["decode-loop"]);
  if (variant === "arena") args.push("--cpu-mem-arena", "1");
  const env = variant === "glibc-default" ? {} : NODE_MALLOC_ENV;
  const { url, child } = await startNode(args, env);
  const pid = child.pid as number;
  try {
    // Idle: after one short warm-up request (sessions initialised), once the node has settled.
    await synth(url, "warm up.", 1, beams);
    await new Promise((r) => setTimeout(r, 2_000));
    const idle = rssBytes(pid);
    let peak = idle;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssBytes(pid));
    }, 50);
    let admittedPeakMb = 0;
    let queuedPeak = 0;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        try {
          const h = (await fetch(`${url}/healthz`).then((r) => r.json())) as Record<string, number>;
          admittedPeakMb = Math.max(admittedPeakMb, h.memory_reserved_mb ?? 0);
          queuedPeak = Math.max(queuedPeak, h.queue_depth ?? 0);
        } catch {
          // a busy node may reset a poll (a run once ended here): the next poll reads it again
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const started = Date.now();
    const statuses: Record<string, number> = {};
    const progress = setInterval(() => {
      const answered = Object.values(statuses).reduce((a, b) => a + b, 0);
      const mb = (b: number) => Math.round(b / 2 ** 20);
      console.log(
        `${variant}, ${beams} beams: ${answered} of ${concurrency * pieces.length} answered after ` +
          `${Math.round((Date.now() - started) / 1000)} s; RSS peak ${mb(peak)} MB (idle ${mb(idle)}), admitted ` +
          `peak ${admittedPeakMb} MiB of ${budgetMb}, queue peak ${queuedPeak}`,
      );
    }, 60_000);
    // each customer request: all its pieces at once, as the proxy sends them
    await Promise.all(
      Array.from({ length: concurrency }, (_, i) =>
        Promise.all(
          pieces.map(async (piece, j) => {
            const s = await synth(url, piece, 100 + i * 1000 + j, beams);
            statuses[s] = (statuses[s] ?? 0) + 1;
          }),
        ),
      ),
    );
    const seconds = Math.round((Date.now() - started) / 1000);
    clearInterval(progress);
    clearInterval(sampler);
    polling = false;
    await poller;
    peak = Math.max(peak, rssBytes(pid));
    // Back to idle: the lowest RSS over the idle window (the allocator trims lazily).
    let after = rssBytes(pid);
    for (let t = 0; t < idleSeconds * 4; t++) {
      await new Promise((r) => setTimeout(r, 250));
      after = Math.min(after, rssBytes(pid));
    }
    const mb = (b: number) => Math.round(b / 2 ** 20);
    return {
      variant,
      beams,
      nodeRequests: concurrency * pieces.length,
      budgetMb,
      admittedPeakMb,
      queuedPeak,
      largestMb: mb(est.largest),
      idleMb: mb(idle),
      peakMb: mb(peak),
      growthMb: mb(peak - idle),
      afterMb: mb(after),
      afterVsIdle: Number((after / idle).toFixed(3)),
      statuses,
      seconds,
      underBudget: mb(peak - idle) <= budgetMb && admittedPeakMb <= budgetMb,
      // requests waited while the next one could not fit (not only for GPT slots)
      bound: queuedPeak > 0 && admittedPeakMb + mb(est.largest) > budgetMb,
      returned: after <= idle * 1.2,
    };
  } finally {
    await stop(child);
  }
}

async function readModelDirOrGenerate() {
  if (!existsSync(`${model}/manifest.json`)) {
    const size = /(tiny|small|full)$/.exec(model)?.[1];
    if (!size) throw new Error(`no model at ${model}`);
    generateModel(size, model);
  }
  return readModelDir(model);
}

const beamCounts = (values.beams ?? String(manifest.sampling.num_beams ?? 3)).split(",").map(Number);
const results: VariantResult[] = [];
for (const variant of (values.variants as string).split(","))
  for (const beams of beamCounts) {
    const r = await runVariant(variant, beams);
    // each variant as it ends, so that a run cut short keeps what it measured
    console.log(JSON.stringify(r));
    results.push(r);
  }

const nodeDefaultMb = Math.round(defaultMemoryBudgetBytes(availableMemoryBytes(), 0) / 2 ** 20);
console.log(
  `model ${manifest.name}${manifest.random_weights ? " (RANDOM weights)" : ""}; ${concurrency} concurrent requests of ` +
    `${[...text].length} code points, each ${pieces.length} node requests (${estimates(1).segments} segments) sent at once; ` +
    `${maxCodes !== undefined ? `codes per segment CAPPED at ${maxCodes} for this run (max_tokens; the estimate uses it)` : "codes per segment uncapped"}; ` +
    `budget: ${values["budget-mb"] ? "--budget-mb" : `the estimate's shared terms for a full batch + ${values["budget-share"]} of what the requests hold themselves`} ` +
    `(this host's default would be ${nodeDefaultMb} MiB less the loaded model)`,
);
console.table(results);
if (values.out) {
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(
    values.out,
    `${JSON.stringify({ model: manifest.name, concurrency, chars: [...text].length, pieces: pieces.length, maxCodes: maxCodes ?? null, results }, null, 2)}\n`,
  );
}
if (results.some((r) => !(r.underBudget && r.bound && r.returned) || Object.keys(r.statuses).some((s) => s !== "200")))
  process.exitCode = 1;
