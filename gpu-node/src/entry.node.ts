import { statSync } from "node:fs";
import type { Server } from "node:http";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { serve } from "@hono/node-server";
import { z } from "zod";
import { availableMemoryBytes } from "./adapters/host-memory.ts";
import { openModelBackend } from "./adapters/model-backend.ts";
import { frontEndOptions, readModelDir } from "./adapters/model-dir.ts";
import { startNvidiaSmiSampler } from "./adapters/nvidia-smi-sampler.ts";
import { WorkerEngine } from "./adapters/worker-engine.ts";
import { RESIDENT_GRAPH_NAMES } from "./engine/backend.ts";
import { Engine } from "./engine/engine.ts";
import { defaultMemoryBudgetBytes } from "./engine/memory-budget.ts";
import { MAX_BEAMS } from "./engine/sampling.ts";
import { createMetricsApp, createNodeApp } from "./http/app.ts";
import { VoiceBank } from "./model/voices.ts";
import { NodeMetrics } from "./telemetry/metrics.ts";
import { TextFrontEnd } from "./text/tokenizer.ts";

const HELP = `gpu-node: IndexTTS2 as ONNX graphs with dynamic batching
usage: npm run node -- [--port 8001] [--host 127.0.0.1] [--model gpu-node/models/tiny] [--max-batch 16]
       [--max-queue-delay-ms 5] [--max-queue 64] [--max-pad-ratio 1.5] [--reserved-interactive N]
       [--request-timeout-ms 120000] [--intra-op-threads N] [--inter-op-threads 1] [--intra-op-spinning 0|1]
       [--providers cpu] [--num-beams 3] [--engine-thread worker|main] [--decode-loop auto|host|resident]
       [--max-body-bytes 65536] [--metrics-port N] [--metrics-host 127.0.0.1]
       [--memory-budget-mb N] [--cpu-mem-arena 0|1]
--memory-budget-mb bounds the admitted requests' estimated peak memory (default: 60 % of the host's (or container's) memory less
what the loaded model takes); --cpu-mem-arena 1 keeps onnxruntime's CPU arena (faster reuse, never returned).
--metrics-port moves /metrics off the API port onto its own internal listener (on --metrics-host).
Every flag can also be set as an environment variable: GPU_NODE_PORT, GPU_NODE_MODEL, GPU_NODE_MAX_BATCH, ...`;

const int = (min: number) => z.coerce.number().int().min(min);
const configSchema = z.object({
  port: int(0).max(65535).default(8001),
  host: z.string().default("127.0.0.1"),
  model: z.string().default("gpu-node/models/tiny"),
  maxBatch: int(1).max(256).default(16),
  maxQueueDelayMs: z.coerce.number().min(0).default(5),
  maxQueue: int(0).default(64),
  maxPadRatio: z.coerce.number().min(1).default(1.5),
  reservedInteractive: int(0).optional(),
  requestTimeoutMs: int(1).default(120_000),
  intraOpThreads: int(1).default(availableParallelism()),
  interOpThreads: int(1).default(1),
  // off by default: the node alternates between sessions, and a spinning pool slows the next session's call
  intraOpSpinning: z.enum(["0", "1"]).default("0"),
  providers: z.string().default("cpu"),
  maxBodyBytes: int(1).default(65_536),
  // beams per segment (IndexTTS2: 3, the manifest's default); 1 trades a little quality for ~3× the streams
  numBeams: int(1).max(MAX_BEAMS).optional(),
  // worker: graph calls run on their own thread (onnxruntime-node's run blocks its thread); main: on the HTTP thread
  engineThread: z.enum(["worker", "main"]).default("worker"),
  // resident: the cache stays where the session put it, so the bytes per step do not grow with the history, and a
  // sequence's beams share one frozen row (faster than host on the CPU too: gpu-node/BENCHMARKS.md); host: the KV
  // cache in host memory, fed whole each step; auto: resident where the model directory has its graphs
  // (tools/resident_graphs.py), else host
  decodeLoop: z.enum(["auto", "host", "resident"]).default("auto"),
  /** when set, /metrics is served only here (internal), not on the API port */
  metricsPort: int(0).max(65535).optional(),
  metricsHost: z.string().default("127.0.0.1"),
  memoryBudgetMb: int(1).optional(),
  cpuMemArena: z.enum(["0", "1"]).default("0"),
});

const flags = Object.keys(configSchema.shape);
const kebab = (s: string) => s.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`);
const { values } = parseArgs({
  options: Object.fromEntries([
    ["help", { type: "boolean" }],
    ...flags.map((f) => [kebab(f), { type: "string" }]),
  ]) as Record<string, { type: "string" | "boolean" }>,
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const raw = Object.fromEntries(
  flags.map((f) => [f, values[kebab(f)] ?? process.env[`GPU_NODE_${kebab(f).replaceAll("-", "_").toUpperCase()}`]]),
);
const parsed = configSchema.safeParse(raw);
if (!parsed.success) {
  console.error(`bad configuration: ${z.prettifyError(parsed.error)}\n\n${HELP}`);
  process.exit(2);
}
const config = parsed.data;

const files = await readModelDir(config.model);
const runtime = {
  executionProviders: config.providers.split(","),
  intraOpThreads: config.intraOpThreads,
  interOpThreads: config.interOpThreads,
  intraOpSpinning: config.intraOpSpinning === "1",
  cpuMemArena: config.cpuMemArena === "1",
};
const engineOptions = {
  maxBatch: config.maxBatch,
  maxQueueDelayMs: config.maxQueueDelayMs,
  maxPadRatio: config.maxPadRatio,
  maxQueue: config.maxQueue,
  reservedInteractiveSlots: config.reservedInteractive ?? Math.floor(config.maxBatch / 4),
  requestTimeoutMs: config.requestTimeoutMs,
  ...(config.numBeams !== undefined ? { numBeams: config.numBeams } : {}),
  decodeLoop:
    config.decodeLoop !== "auto"
      ? config.decodeLoop
      : RESIDENT_GRAPH_NAMES.every((g) => files.graphPaths[g] !== undefined)
        ? ("resident" as const)
        : ("host" as const),
  // What requests may hold beyond the loaded model (engine/memory-budget.ts).
  memoryBudgetBytes:
    config.memoryBudgetMb !== undefined
      ? config.memoryBudgetMb * 2 ** 20
      : // the graphs load later (in the engine's worker): count their weights as resident already
        defaultMemoryBudgetBytes(
          availableMemoryBytes(),
          process.memoryUsage.rss() + Object.values(files.graphPaths).reduce((n, p) => n + statSync(p).size, 0),
        ),
};
const gpu = startNvidiaSmiSampler();
// The metrics read the engine lazily (on scrape), and the engine reports to the metrics.
const metrics = new NodeMetrics({ stats: () => engine.stats() }, gpu);
/** the engine, on this thread or its own; a model it cannot run (openModelBackend's checks) stops the start */
let backend: Awaited<ReturnType<typeof openModelBackend>> | null = null;
async function startEngine() {
  if (config.engineThread === "main") {
    backend = await openModelBackend(files, runtime);
    return new Engine({
      backend,
      manifest: files.manifest,
      options: engineOptions,
      observer: metrics,
      yieldToEventLoop: () => new Promise((resolve) => setImmediate(resolve)),
    });
  }
  return WorkerEngine.start({ modelDir: config.model, runtime, options: engineOptions, statsIntervalMs: 100 }, metrics);
}
const engine = await startEngine().catch((e: unknown) => {
  console.error(`gpu-node: cannot start on ${config.model}: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
const app = createNodeApp({
  engine,
  manifest: files.manifest,
  voices: new VoiceBank(files.manifest, files.voices, files.emotions),
  text: new TextFrontEnd(files.bpe, frontEndOptions(files)),
  metrics,
  engineOptions,
  runtime,
  maxBodyBytes: config.maxBodyBytes,
  log: (line) => console.error(JSON.stringify(line)),
  serveMetrics: config.metricsPort === undefined,
});

const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
  const weights = files.manifest.random_weights ? "RANDOM weights: audio is noise" : "real weights";
  console.log(
    `gpu-node listening on http://${config.host}:${info.port} (model ${files.manifest.name}, ${weights}, decode loop ${engineOptions.decodeLoop})`,
  );
});

const metricsServer =
  config.metricsPort === undefined
    ? null
    : serve(
        { fetch: createMetricsApp(metrics).fetch, port: config.metricsPort, hostname: config.metricsHost },
        (info) => console.log(`gpu-node metrics on http://${config.metricsHost}:${info.port}/metrics`),
      );

// SIGTERM drains: the engine takes no new request (503 SHUTTING_DOWN) and finishes those it holds; the listener
// closes, idle keep-alive connections are closed as they appear, and the process exits once every answer is out.
let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  console.log("gpu-node: draining (no new requests; finishing those in flight)");
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const sweep = setInterval(() => (server as Server).closeIdleConnections(), 50);
  const engineDone = engine.close();
  await Promise.race([
    Promise.all([closed, engineDone]),
    new Promise((resolve) => setTimeout(resolve, config.requestTimeoutMs).unref()),
  ]);
  clearInterval(sweep);
  (server as Server).closeAllConnections();
  metricsServer?.close();
  gpu.close();
  await backend?.close();
  process.exit(0);
};
process.once("SIGTERM", shutdown);
process.once("SIGINT", shutdown);
