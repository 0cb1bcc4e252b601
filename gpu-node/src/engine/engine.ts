import { NodeError } from "../core/errors.ts";
import type { Manifest } from "../model/manifest.ts";
import { AdmitStage } from "./admit-stage.ts";
import type { EngineOptions, SynthesisJob, SynthesisResult } from "./api.ts";
import type { InferenceBackend } from "./backend.ts";
import { CountingBackend } from "./boundary-bytes.ts";
import { GptStage } from "./gpt-stage.ts";
import { LatentStage } from "./latent-stage.ts";
import { MemoryBudget, memoryModel } from "./memory-budget.ts";
import { type EngineObserver, noopObserver, type StageName } from "./observer.ts";
import { ProjectorStage } from "./projector-stage.ts";
import { joinSegmentAudio, planCodes, requestState } from "./request-state.ts";
import { S2melStage } from "./s2mel-stage.ts";
import type { SamplingParams } from "./sampling.ts";
import { type Candidate, type GpuStage, pickStage } from "./stage.ts";
import type { Priority, RequestState, SegmentState } from "./types.ts";
import { VocoderStage } from "./vocoder-stage.ts";
import { WaitEstimator } from "./wait-estimate.ts";

export type { EngineOptions, SynthesisJob, SynthesisResult } from "./api.ts";

export interface EngineDeps {
  backend: InferenceBackend;
  manifest: Manifest;
  options: EngineOptions;
  observer?: EngineObserver;
  now?: () => number;
  /** yields to the host's event loop between graph calls (Node: setImmediate) */
  yieldToEventLoop?: () => Promise<void>;
}

interface Pending {
  state: RequestState;
  resolve: (r: SynthesisResult) => void;
  reject: (e: NodeError) => void;
  timer: ReturnType<typeof setTimeout>;
  onAbort?: () => void;
  signal?: AbortSignal;
  onSegment?: SynthesisJob["onSegment"];
  /** segments handed to `onSegment`, a prefix of the request's (they are released in order) */
  emitted: number;
}

/** Seconds of silence IndexTTS2 puts between segments (`interval_silence`, 200 ms). */
const SEGMENT_SILENCE_S = 0.2;

/**
 * The batching engine: a bounded queue in front of an ordered list of stages — admission, the GPT (continuous
 * batching, beams as rows), the projector, the CFM (step-level batching) and the vocoder (length buckets). One loop
 * runs one graph call at a time, picked by `pickStage` (interactive first, round-robin over the stages), and yields
 * to the event loop between calls; a segment a stage passes on goes to the next stage that takes it.
 */
export class Engine {
  private readonly gpt: GptStage;
  private readonly counted: CountingBackend;
  private readonly admission: AdmitStage;
  /** the pipeline, in order; a new stage is one entry here */
  private readonly stages: readonly GpuStage[];
  private readonly observer: EngineObserver;
  private readonly now: () => number;
  private readonly yieldToEventLoop: () => Promise<void>;
  private readonly pending = new Map<string, Pending>();
  private wake: (() => void) | null = null;
  private wakeTimer: ReturnType<typeof setTimeout> | null = null;
  private lastStage = -1;
  private closing = false;
  private stopped = false;
  private loopDone: Promise<void>;
  private evictionDue = false;
  private readonly estimator: WaitEstimator;
  private busySeconds = 0;
  /** tokens the decode steps have generated: one per running beam (batch row) per step */
  private generatedCodes = 0;
  private readonly defaultSampling: SamplingParams;
  private readonly memory: MemoryBudget;

  constructor(private readonly deps: EngineDeps) {
    const { manifest, options } = deps;
    const backend = new CountingBackend(deps.backend);
    this.counted = backend;
    this.gpt = new GptStage(backend, manifest, options.decodeLoop ?? "host");
    const batching = {
      maxBatch: options.maxBatch,
      maxQueueDelayMs: options.maxQueueDelayMs,
      maxPadRatio: options.maxPadRatio,
    };
    this.observer = deps.observer ?? noopObserver;
    this.now = deps.now ?? (() => performance.now());
    this.memory = new MemoryBudget(memoryModel(manifest), options.memoryBudgetBytes ?? Number.POSITIVE_INFINITY, {
      maxBatch: options.maxBatch,
    });
    this.admission = new AdmitStage({
      gpt: this.gpt,
      memory: this.memory,
      options,
      downstreamRows: () => this.downstreamRows(),
      now: this.now,
      timed: (stage, batch, fn) => this.timed(stage, batch, fn),
    });
    this.stages = [
      this.admission,
      this.gpt,
      new LatentStage(backend, manifest),
      new ProjectorStage(backend, manifest),
      new S2melStage(backend, manifest, batching, () => this.gpt.hasWork || this.admission.size > 0),
      new VocoderStage(backend, manifest, batching),
    ];
    this.estimator = new WaitEstimator(this.now);
    this.yieldToEventLoop = deps.yieldToEventLoop ?? (() => new Promise((r) => setTimeout(r, 0)));
    const s = manifest.sampling;
    this.defaultSampling = {
      topK: s.top_k,
      topP: s.top_p,
      temperature: s.temperature,
      repetitionPenalty: s.repetition_penalty,
      numBeams: options.numBeams ?? s.num_beams,
      lengthPenalty: s.length_penalty,
    };
    this.loopDone = this.loop();
  }

  /** Queue a job; resolves with its audio or rejects with a NodeError (503 on backpressure, 504 on deadline). */
  submit(job: SynthesisJob, signal?: AbortSignal): Promise<SynthesisResult> {
    if (this.closing) return Promise.reject(new NodeError("SHUTTING_DOWN", "the node is shutting down", 5));
    const now = this.now();
    const plan = planCodes(this.deps.manifest, job);
    const { expectedCodes } = plan;

    const timeoutMs = Math.min(
      job.deadlineMs ?? this.deps.options.requestTimeoutMs,
      this.deps.options.requestTimeoutMs,
    );
    const state = requestState(this.deps.manifest, job, plan, {
      sampling: { ...this.defaultSampling, ...job.sampling },
      now,
      timeoutMs,
    });
    // a request that can never fit is told so first, whatever the load (413 is final, 503 is not)
    const needs = this.memory.estimate(state);
    if (needs > this.memory.budgetBytes) {
      this.observer.rejected("memory");
      return Promise.reject(
        new NodeError(
          "REQUEST_TOO_LARGE",
          `the request needs about ${Math.ceil(needs / 2 ** 20)} MiB, more than this node's memory budget`,
        ),
      );
    }

    const queued = this.queuedRequests();
    if (queued >= this.deps.options.maxQueue) {
      this.observer.rejected("queue_full");
      return Promise.reject(
        new NodeError("QUEUE_FULL", `the queue is full (${queued} requests waiting)`, this.retryAfterSeconds(0)),
      );
    }
    const estimate = this.estimateSeconds(job.priority, expectedCodes);
    if (estimate !== null && estimate * 1000 > timeoutMs) {
      this.observer.rejected("deadline");
      return Promise.reject(
        new NodeError(
          "DEADLINE_UNMEETABLE",
          `estimated completion in ${estimate.toFixed(1)} s exceeds the deadline of ${(timeoutMs / 1000).toFixed(1)} s`,
          this.retryAfterSeconds(expectedCodes),
        ),
      );
    }

    return new Promise<SynthesisResult>((resolve, reject) => {
      const timer = setTimeout(
        () => this.fail(state.id, new NodeError("DEADLINE_EXCEEDED", `not finished within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const entry: Pending = { state, resolve, reject, timer, emitted: 0 };
      if (job.onSegment) entry.onSegment = job.onSegment;
      if (signal) {
        entry.signal = signal;
        entry.onAbort = () => this.fail(state.id, new NodeError("CLIENT_CLOSED", "the client went away"));
        if (signal.aborted) {
          clearTimeout(timer);
          reject(new NodeError("CLIENT_CLOSED", "the client went away"));
          return;
        }
        signal.addEventListener("abort", entry.onAbort, { once: true });
      }
      this.pending.set(state.id, entry);
      for (const seg of state.segments) this.admission.accept(seg);
      this.poke();
    });
  }

  /** requests accepted whose decoding has not started */
  queuedRequests(): number {
    let n = 0;
    for (const p of this.pending.values()) if (p.state.admittedAt === null) n++;
    return n;
  }

  stats() {
    return {
      queued: this.queuedRequests(),
      inFlight: this.pending.size,
      gptBatch: this.gpt.occupancy,
      memoryReservedBytes: this.memory.reservedBytes,
      s2melRows: this.sizeOf("cfm_step"),
      vocoderRows: this.sizeOf("vocoder"),
      freeSlots: Math.max(0, this.deps.options.maxBatch - this.gpt.occupancy),
      queueCapacity: Math.max(0, this.deps.options.maxQueue - this.queuedRequests()),
      busySeconds: this.busySeconds,
      throughputCodesPerSecond: this.estimator.throughput(),
      closing: this.closing,
      /** bytes fed to and fetched from each graph's session (host boundary), with the codes they produced */
      boundary: this.counted.snapshot(),
      generatedCodes: this.generatedCodes,
    };
  }

  /** Stop accepting work and wait for what is in flight. */
  async close(): Promise<void> {
    this.closing = true;
    while (this.pending.size > 0) await new Promise((r) => setTimeout(r, 10));
    this.stopped = true;
    this.poke();
    await this.loopDone;
  }

  /** Stop now: everything pending fails with SHUTTING_DOWN. */
  async destroy(): Promise<void> {
    this.closing = true;
    for (const id of [...this.pending.keys()])
      this.fail(id, new NodeError("SHUTTING_DOWN", "the node is shutting down", 5));
    this.stopped = true;
    this.poke();
    await this.loopDone;
  }

  private poke(): void {
    this.wake?.();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      if (this.evictionDue) this.evict();
      const { next, wakeAt } = this.nextStage();
      if (next === null) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          if (wakeAt !== undefined) this.wakeTimer = setTimeout(resolve, Math.max(0, wakeAt - this.now()));
        });
        this.wake = null;
        if (this.wakeTimer) clearTimeout(this.wakeTimer);
        this.wakeTimer = null;
        continue;
      }
      const started = this.now();
      try {
        await this.runStage(next);
      } catch (error) {
        // A graph failure is a bug or a broken model, not the client's fault: fail what was in flight, keep serving.
        const message = error instanceof Error ? error.message : String(error);
        for (const id of [...this.pending.keys()])
          this.fail(id, new NodeError("INTERNAL", `inference failed: ${message}`));
      }
      this.busySeconds += (this.now() - started) / 1000;
      await this.yieldToEventLoop();
    }
  }

  /** The stage to run next (by the pure policy `pickStage`), or when to look again. */
  private nextStage(): { next: number | null; wakeAt?: number } {
    const now = this.now();
    const candidates: Candidate[] = [];
    let wakeAt: number | undefined;
    this.stages.forEach((stage, index) => {
      const r = stage.readiness(now);
      if (r.ready) candidates.push({ index, priority: r.priority, sticky: stage === this.admission });
      else if (r.wakeAt !== undefined) wakeAt = Math.min(wakeAt ?? r.wakeAt, r.wakeAt);
    });
    const picked = pickStage(candidates, this.lastStage);
    if (!picked) return { next: null, ...(wakeAt !== undefined ? { wakeAt } : {}) };
    this.lastStage = picked.index;
    return { next: picked.index };
  }

  private async runStage(index: number): Promise<void> {
    const stage = this.stages[index];
    if (!stage) return;
    const start = this.now();
    const { batch, passed } = await stage.step(start);
    if (stage.name !== "admit") this.observer.stageRun(stage.name, (this.now() - start) / 1000, batch);
    if (stage === this.gpt) this.generatedCodes += batch;
    for (const seg of passed) this.pass(seg, index);
  }

  /** Hand `seg` to the next stage after `from` that takes it; a segment no stage takes is complete. */
  private pass(seg: SegmentState, from: number): void {
    if (seg.request.finished) return;
    const next = this.stages.slice(from + 1).find((s) => s.takes(seg));
    if (next) next.accept(seg, this.now());
    else this.segmentDone(seg);
  }

  /** segments that left the GPT and have no audio yet */
  private downstreamRows(): number {
    const gpt = this.stages.indexOf(this.gpt);
    return this.stages.slice(gpt + 1).reduce((n, s) => n + s.size, 0);
  }

  private sizeOf(name: GpuStage["name"]): number {
    return this.stages.find((s) => s.name === name)?.size ?? 0;
  }

  private async timed<T>(stage: StageName, batch: number, fn: () => Promise<T>): Promise<T> {
    const start = this.now();
    const result = await fn();
    this.observer.stageRun(stage, (this.now() - start) / 1000, batch);
    return result;
  }

  private segmentDone(seg: SegmentState): void {
    const request = seg.request;
    if (request.finished) return;
    const entry = this.pending.get(request.id);
    if (!entry) return;
    this.emitSegments(entry);
    if (!request.segments.every((s) => s.stage === "done")) return;
    const audio = joinSegmentAudio(request, Math.round(SEGMENT_SILENCE_S * this.deps.manifest.sample_rate));
    const now = this.now();
    const codes = request.segments.reduce((n, s) => n + s.codes.length, 0);
    const queueWaitMs = (request.admittedAt ?? now) - request.arrivedAt;
    this.settle(request.id);
    this.estimator.completed(codes);
    this.observer.completed({
      priority: request.priority,
      semanticTokens: codes,
      audioSeconds: audio.length / this.deps.manifest.sample_rate,
      queueSeconds: queueWaitMs / 1000,
      totalSeconds: (now - request.arrivedAt) / 1000,
    });
    entry.resolve({
      audio,
      semanticTokens: codes,
      codes: request.segments.map((s) => [...s.codes]),
      segments: request.segments.length,
      queueWaitMs,
      computeMs: now - (request.admittedAt ?? request.arrivedAt),
      maxBatch: request.maxGptBatch,
    });
  }

  /**
   * A streaming job's finished segments, in text order: segments finish in any order (the vocoder buckets by
   * length), so a segment is handed over once every one before it has been.
   */
  private emitSegments(entry: Pending): void {
    const onSegment = entry.onSegment;
    if (!onSegment) return;
    const segments = entry.state.segments;
    for (let s = segments[entry.emitted]; s && s.stage === "done"; s = segments[entry.emitted]) {
      onSegment(entry.emitted, s.audio ?? new Float32Array(0));
      entry.emitted++;
    }
  }

  private fail(id: string, error: NodeError): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.settle(id);
    this.observer.failed(error.code);
    entry.reject(error);
  }

  /** Mark a request finished and release what holds it; its rows leave the stages at their next boundary. */
  private settle(id: string): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    entry.state.finished = true;
    clearTimeout(entry.timer);
    if (entry.signal && entry.onAbort) entry.signal.removeEventListener("abort", entry.onAbort);
    this.pending.delete(id);
    this.memory.release(id);
    this.evictionDue = true;
    this.poke();
  }

  private evict(): void {
    this.evictionDue = false;
    for (const stage of this.stages) stage.evictFinished();
  }

  private estimateSeconds(priority: Priority, codes: number): number | null {
    return this.estimator.seconds(priority, codes, this.inFlight());
  }

  private retryAfterSeconds(codes: number): number {
    return this.estimator.retryAfterSeconds(codes, this.inFlight());
  }

  private *inFlight(): Iterable<RequestState> {
    for (const p of this.pending.values()) yield p.state;
  }
}
