import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { type ServerType, serve } from "@hono/node-server";
import { openModelBackend } from "../adapters/model-backend.ts";
import { frontEndOptions, readModelDir } from "../adapters/model-dir.ts";
import type { InferenceBackend } from "../engine/backend.ts";
import { Engine, type EngineOptions } from "../engine/engine.ts";
import { createNodeApp } from "../http/app.ts";
import { VoiceBank } from "../model/voices.ts";
import { noGpu } from "../telemetry/gpu.ts";
import { NodeMetrics } from "../telemetry/metrics.ts";
import { TextFrontEnd } from "../text/tokenizer.ts";

/** The committed tiny random-weight model. */
export const TINY_MODEL_DIR = fileURLToPath(new URL("../../models/tiny", import.meta.url));

export const defaultTestOptions: EngineOptions = {
  maxBatch: 8,
  maxQueueDelayMs: 2,
  maxPadRatio: 1.5,
  maxQueue: 64,
  reservedInteractiveSlots: 2,
  requestTimeoutMs: 60_000,
};

/**
 * A complete node (real onnxruntime on the tiny model) with its engine, app and metrics, for tests and benches.
 * `wrap` puts a decorator around the backend the engine sees (e.g. to record graph calls).
 */
export async function createTestNode(
  options: Partial<EngineOptions> = {},
  modelDir = TINY_MODEL_DIR,
  wrap: (backend: InferenceBackend) => InferenceBackend = (b) => b,
) {
  const files = await readModelDir(modelDir);
  const runtime = { executionProviders: ["cpu"], intraOpThreads: 1, interOpThreads: 1, intraOpSpinning: false };
  const backend = await openModelBackend(files, runtime);
  const engineOptions = { ...defaultTestOptions, ...options };
  const metrics = new NodeMetrics({ stats: () => engine.stats() }, noGpu);
  const engine = new Engine({
    backend: wrap(backend),
    manifest: files.manifest,
    options: engineOptions,
    observer: metrics,
    yieldToEventLoop: () => new Promise((resolve) => setImmediate(resolve)),
  });
  const voices = new VoiceBank(files.manifest, files.voices, files.emotions);
  const text = new TextFrontEnd(files.bpe, frontEndOptions(files));
  const app = createNodeApp({
    engine,
    manifest: files.manifest,
    voices,
    text,
    metrics,
    engineOptions,
    runtime,
    maxBodyBytes: 16_384,
  });
  return {
    files,
    backend,
    engine,
    voices,
    text,
    metrics,
    app,
    async close() {
      await engine.destroy();
      await backend.close();
    },
  };
}

/** Serve an app on 127.0.0.1 with an ephemeral port. */
export async function listen(fetch: (req: Request) => Response | Promise<Response>) {
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
