import type { ErrorCode } from "../core/errors.ts";
import type { EngineOptions, SynthesisJob, SynthesisResult } from "../engine/api.ts";
import type { Engine } from "../engine/engine.ts";
import type { EngineObserver } from "../engine/observer.ts";
import type { OrtOptions } from "./ort-backend.ts";

/** Messages between the HTTP thread (worker-engine.ts) and the engine's thread (engine-worker.ts). */
export interface WorkerConfig {
  modelDir: string;
  runtime: OrtOptions;
  options: EngineOptions;
  /** how often the engine's stats are pushed to the HTTP thread (they are also pushed on every submit/settle) */
  statsIntervalMs: number;
}

export type EngineStats = ReturnType<Engine["stats"]>;

/**
 * a job as it crosses: the voice by id (the worker has its own voice bank); `stream` in place of the `onSegment`
 * callback, whose calls come back as "segment" messages, in order, before the result
 */
export type WireJob = Omit<SynthesisJob, "voice" | "onSegment"> & { voice: number; stream?: boolean };

export type ToWorker =
  | { type: "submit"; id: number; job: WireJob }
  | { type: "abort"; id: number }
  | { type: "close"; now: boolean };

type ObserverEvent = {
  [K in keyof EngineObserver]: { type: "observe"; event: K; args: Parameters<EngineObserver[K]> };
}[keyof EngineObserver];

export type FromWorker =
  | { type: "ready"; stats: EngineStats }
  | { type: "stats"; stats: EngineStats }
  | { type: "segment"; id: number; index: number; audio: Float32Array }
  | { type: "result"; id: number; result: SynthesisResult }
  | { type: "error"; id: number; error: { code: ErrorCode; message: string; retryAfterSeconds?: number | undefined } }
  | ObserverEvent
  | { type: "closed" };
