/**
 * The engine on its own thread (see worker-engine.ts): onnxruntime-node 1.30's `run` blocks its thread for the
 * whole graph call, so the engine, its sessions and its KV cache live here and the HTTP thread only exchanges small
 * messages (a job with its voice id; the audio back, transferred).
 */
import { parentPort, workerData } from "node:worker_threads";
import { isNodeError } from "../core/errors.ts";
import type { SynthesisJob } from "../engine/api.ts";
import { Engine } from "../engine/engine.ts";
import type { EngineObserver } from "../engine/observer.ts";
import { VoiceBank } from "../model/voices.ts";
import { openModelBackend } from "./model-backend.ts";
import { readModelDir } from "./model-dir.ts";
import type { FromWorker, ToWorker, WorkerConfig } from "./worker-protocol.ts";

const port = parentPort;
if (!port) throw new Error("engine-worker runs only as a worker thread");
const config = workerData as WorkerConfig;
const post = (msg: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

const files = await readModelDir(config.modelDir);
const backend = await openModelBackend(files, config.runtime);
const voices = new VoiceBank(files.manifest, files.voices, files.emotions);
const observer: EngineObserver = {
  stageRun: (...args) => post({ type: "observe", event: "stageRun", args }),
  rejected: (...args) => post({ type: "observe", event: "rejected", args }),
  completed: (...args) => post({ type: "observe", event: "completed", args }),
  failed: (...args) => post({ type: "observe", event: "failed", args }),
};
const engine = new Engine({
  backend,
  manifest: files.manifest,
  options: config.options,
  observer,
  yieldToEventLoop: () => new Promise((resolve) => setImmediate(resolve)),
});
const aborts = new Map<number, AbortController>();
const publishStats = () => post({ type: "stats", stats: engine.stats() });
const statsTimer = setInterval(publishStats, config.statsIntervalMs);

port.on("message", async (msg: ToWorker) => {
  if (msg.type === "submit") {
    const controller = new AbortController();
    aborts.set(msg.id, controller);
    const { stream, ...wire } = msg.job;
    const job: SynthesisJob = { ...wire, voice: voices.get(msg.job.voice) };
    if (stream) {
      // a copy: the segment's own array is joined into the whole answer afterwards, so it must not be detached
      job.onSegment = (index, audio) => {
        const copy = audio.slice();
        post({ type: "segment", id: msg.id, index, audio: copy }, [copy.buffer as ArrayBuffer]);
      };
    }
    const pending = engine.submit(job, controller.signal);
    publishStats();
    try {
      const result = await pending;
      post({ type: "result", id: msg.id, result }, [result.audio.buffer as ArrayBuffer]);
    } catch (error) {
      const e = isNodeError(error)
        ? { code: error.code, message: error.message, retryAfterSeconds: error.retryAfterSeconds }
        : { code: "INTERNAL" as const, message: error instanceof Error ? error.message : String(error) };
      post({ type: "error", id: msg.id, error: e });
    } finally {
      aborts.delete(msg.id);
      publishStats();
    }
  } else if (msg.type === "abort") {
    aborts.get(msg.id)?.abort();
  } else if (msg.type === "close") {
    clearInterval(statsTimer);
    await (msg.now ? engine.destroy() : engine.close());
    await backend.close();
    post({ type: "closed" });
  }
});
post({ type: "ready", stats: engine.stats() });
