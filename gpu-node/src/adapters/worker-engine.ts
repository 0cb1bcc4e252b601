import { Worker } from "node:worker_threads";
import { NodeError } from "../core/errors.ts";
import type { SynthesisJob, SynthesisResult } from "../engine/api.ts";
import { type EngineObserver, noopObserver } from "../engine/observer.ts";
import type { EngineStats, FromWorker, ToWorker, WorkerConfig } from "./worker-protocol.ts";

interface Waiting {
  onSegment?: SynthesisJob["onSegment"];
  resolve: (r: SynthesisResult) => void;
  reject: (e: NodeError) => void;
  cleanup: () => void;
}

/**
 * The engine, run on a worker thread so that graph calls (onnxruntime-node 1.30 runs them synchronously on the
 * calling thread) never block the HTTP event loop: `/healthz`, metrics and admission answer while the GPT steps.
 * Same surface as `Engine` for the HTTP app and the metrics; `stats()` is the latest snapshot the worker pushed
 * (on every submit and settle, and every `statsIntervalMs`), so gauges may lag by one graph call.
 */
export class WorkerEngine {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private latest: EngineStats;
  private closed: (() => void) | null = null;

  private constructor(
    worker: Worker,
    stats: EngineStats,
    private readonly observer: EngineObserver,
  ) {
    this.worker = worker;
    this.latest = stats;
    worker.on("message", (msg: FromWorker) => this.onMessage(msg));
    worker.on("error", (error) => this.failAll(`the engine thread failed: ${error.message}`));
    worker.on("exit", () => this.failAll("the engine thread exited"));
  }

  static async start(config: WorkerConfig, observer: EngineObserver = noopObserver): Promise<WorkerEngine> {
    const worker = new Worker(new URL("./engine-worker.mjs", import.meta.url), { workerData: config });
    const stats = await new Promise<EngineStats>((resolve, reject) => {
      const onMessage = (msg: FromWorker) => {
        if (msg.type !== "ready") return;
        worker.off("message", onMessage);
        resolve(msg.stats);
      };
      worker.on("message", onMessage);
      worker.once("error", reject);
      worker.once("exit", (code) =>
        reject(new Error(`the engine thread exited with code ${code} before it was ready`)),
      );
    });
    worker.removeAllListeners("error");
    worker.removeAllListeners("exit");
    return new WorkerEngine(worker, stats, observer);
  }

  submit(job: SynthesisJob, signal?: AbortSignal): Promise<SynthesisResult> {
    if (signal?.aborted) return Promise.reject(new NodeError("CLIENT_CLOSED", "the client went away"));
    const id = this.nextId++;
    return new Promise<SynthesisResult>((resolve, reject) => {
      const onAbort = () => this.send({ type: "abort", id });
      signal?.addEventListener("abort", onAbort, { once: true });
      const { onSegment, ...rest } = job;
      this.waiting.set(id, {
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener("abort", onAbort),
        ...(onSegment ? { onSegment } : {}),
      });
      this.send({ type: "submit", id, job: { ...rest, voice: job.voice.id, ...(onSegment ? { stream: true } : {}) } });
    });
  }

  stats(): EngineStats {
    return this.latest;
  }

  queuedRequests(): number {
    return this.latest.queued;
  }

  /** Stop accepting work and wait for what is in flight. */
  close(): Promise<void> {
    return this.shutdown(false);
  }

  /** Stop now: everything pending fails with SHUTTING_DOWN. */
  destroy(): Promise<void> {
    return this.shutdown(true);
  }

  private async shutdown(now: boolean): Promise<void> {
    await new Promise<void>((resolve) => {
      this.closed = resolve;
      this.send({ type: "close", now });
    });
    await this.worker.terminate();
  }

  private send(msg: ToWorker): void {
    this.worker.postMessage(msg);
  }

  private onMessage(msg: FromWorker): void {
    switch (msg.type) {
      case "stats":
      case "ready":
        this.latest = msg.stats;
        return;
      case "observe":
        // the observer's methods take the worker's arguments unchanged
        (this.observer[msg.event] as (...args: unknown[]) => void)(...msg.args);
        return;
      case "segment":
        this.waiting.get(msg.id)?.onSegment?.(msg.index, msg.audio);
        return;
      case "result":
      case "error": {
        const w = this.waiting.get(msg.id);
        if (!w) return;
        this.waiting.delete(msg.id);
        w.cleanup();
        if (msg.type === "result") w.resolve(msg.result);
        else w.reject(new NodeError(msg.error.code, msg.error.message, msg.error.retryAfterSeconds));
        return;
      }
      case "closed":
        this.closed?.();
        return;
    }
  }

  private failAll(message: string): void {
    for (const [id, w] of this.waiting) {
      this.waiting.delete(id);
      w.cleanup();
      w.reject(new NodeError("INTERNAL", message));
    }
    this.closed?.();
  }
}
