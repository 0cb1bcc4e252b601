import { NodeError } from "../core/errors.ts";
import type { Manifest } from "../model/manifest.ts";
import { admissionCandidate } from "./admission.ts";
import type { EngineOptions, SynthesisJob, SynthesisResult } from "./api.ts";
import type { InferenceBackend } from "./backend.ts";
import { GptStage } from "./gpt-stage.ts";
import { MemoryBudget, memoryModel } from "./memory-budget.ts";
import { type EngineObserver, noopObserver, type StageName } from "./observer.ts";
import { joinSegmentAudio, planCodes, requestState } from "./request-state.ts";
import { S2melStage } from "./s2mel-stage.ts";
import type { SamplingParams } from "./sampling.ts";
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
}

type Task = { stage: StageName | "admit"; priority: Priority; run: () => Promise<void> };

/** Seconds of silence IndexTTS2 puts between segments (`interval_silence`, 200 ms). */
const SEGMENT_SILENCE_S = 0.2;
const STAGE_ORDER = ["admit", "decode", "projector", "cfm_step", "vocoder"] as const;

/**
 * The batching engine: a bounded queue in front of the GPT stage (continuous batching), the s2mel stage
 * (step-level CFM batching) and the vocoder (length buckets). One loop runs one graph call at a time and yields
 * to the event loop between calls; interactive work always goes before batch work.
 */
export class Engine {
  private readonly gpt: GptStage;
  private readonly s2mel: S2melStage;
  private readonly vocoder: VocoderStage;
  private readonly observer: EngineObserver;
  private readonly now: () => number;
  private readonly yieldToEventLoop: () => Promise<void>;
  private readonly pending = new Map<string, Pending>();
  private waiting: SegmentState[] = [];
  private readyForProjection: SegmentState[] = [];
  private wake: (() => void) | null = null;
  private wakeTimer: ReturnType<typeof setTimeout> | null = null;
  private lastStage = -1;
  private closing = false;
  private stopped = false;
  private loopDone: Promise<void>;
  private evictionDue = false;
  private readonly estimator: WaitEstimator;
  private busySeconds = 0;
  private readonly defaultSampling: SamplingParams;
  private readonly memory: MemoryBudget;

  constructor(private readonly deps: EngineDeps) {
    const { backend, manifest, options } = deps;
    this.gpt = new GptStage(backend, manifest);
    const batching = {
      maxBatch: options.maxBatch,
      maxQueueDelayMs: options.maxQueueDelayMs,
      maxPadRatio: options.maxPadRatio,
    };
    this.s2mel = new S2melStage(backend, manifest, batching);
    this.vocoder = new VocoderStage(backend, manifest, batching);
    this.observer = deps.observer ?? noopObserver;
    this.now = deps.now ?? (() => performance.now());
    this.estimator = new WaitEstimator(this.now);
    this.memory = new MemoryBudget(memoryModel(manifest), options.memoryBudgetBytes ?? Number.POSITIVE_INFINITY);
    this.yieldToEventLoop = deps.yieldToEventLoop ?? (() => new Promise((r) => setTimeout(r, 0)));
    const s = manifest.sampling;
    this.defaultSampling = {
      topK: s.top_k,
      topP: s.top_p,
      temperature: s.temperature,
      repetitionPenalty: s.repetition_penalty,
    };
    this.loopDone = this.loop();
  }

  /** Queue a job; resolves with its audio or rejects with a NodeError (503 on backpressure, 504 on deadline). */
  submit(job: SynthesisJob, signal?: AbortSignal): Promise<SynthesisResult> {
    if (this.closing) return Promise.reject(new NodeError("SHUTTING_DOWN", "the node is shutting down", 5));
    const now = this.now();
    const plan = planCodes(this.deps.manifest, job);
    const { expectedCodes } = plan;

    const queued = this.queuedRequests();
    if (queued >= this.deps.options.maxQueue) {
      this.observer.rejected("queue_full");
      return Promise.reject(
        new NodeError("QUEUE_FULL", `the queue is full (${queued} requests waiting)`, this.retryAfterSeconds(0)),
      );
    }
    const timeoutMs = Math.min(
      job.deadlineMs ?? this.deps.options.requestTimeoutMs,
      this.deps.options.requestTimeoutMs,
    );
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

    const state = requestState(this.deps.manifest, job, plan, {
      sampling: { ...this.defaultSampling, ...job.sampling },
      now,
      timeoutMs,
    });
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

    return new Promise<SynthesisResult>((resolve, reject) => {
      const timer = setTimeout(
        () => this.fail(state.id, new NodeError("DEADLINE_EXCEEDED", `not finished within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const entry: Pending = { state, resolve, reject, timer };
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
      this.waiting.push(...state.segments);
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
      s2melRows: this.s2mel.size,
      vocoderRows: this.vocoder.size,
      freeSlots: Math.max(0, this.deps.options.maxBatch - this.gpt.occupancy),
      queueCapacity: Math.max(0, this.deps.options.maxQueue - this.queuedRequests()),
      busySeconds: this.busySeconds,
      throughputCodesPerSecond: this.estimator.throughput(),
      closing: this.closing,
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
      const { task, wakeAt } = this.nextTask();
      if (!task) {
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
        await task.run();
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

  private nextTask(): { task: Task | null; wakeAt?: number } {
    const now = this.now();
    const candidates: Task[] = [];
    let wakeAt: number | undefined;
    const admit = admissionCandidate({
      waiting: this.waiting,
      occupancy: this.gpt.occupancy,
      batchOccupancy: this.gpt.countByPriority("batch"),
      downstreamRows: this.downstreamRows(),
      options: this.deps.options,
      now,
      fitsMemory: (r) => this.memory.fits(r),
    });
    if (admit.segment) {
      const seg = admit.segment;
      candidates.push({ stage: "admit", priority: seg.request.priority, run: () => this.admit(seg) });
    } else if (admit.wakeAt !== undefined) wakeAt = admit.wakeAt;
    if (this.gpt.hasWork) {
      const priority = this.gpt.countByPriority("interactive") > 0 ? "interactive" : "batch";
      candidates.push({ stage: "decode", priority, run: () => this.decode() });
    }
    const projection = this.pickByPriority(this.readyForProjection);
    if (projection) {
      candidates.push({
        stage: "projector",
        priority: projection.request.priority,
        run: () => this.project(projection),
      });
    }
    const cfm = this.s2mel.readiness(now, this.gpt.hasWork || this.waiting.length > 0);
    if (cfm.ready) {
      const priority = this.s2mel.countByPriority("interactive") > 0 ? "interactive" : "batch";
      candidates.push({ stage: "cfm_step", priority, run: () => this.cfmStep() });
    } else if (cfm.wakeAt !== undefined) wakeAt = Math.min(wakeAt ?? cfm.wakeAt, cfm.wakeAt);
    if (this.vocoder.size > 0) {
      const priority = this.vocoder.countByPriority("interactive") > 0 ? "interactive" : "batch";
      candidates.push({ stage: "vocoder", priority, run: () => this.vocode() });
    }
    if (candidates.length === 0) return { task: null, ...(wakeAt !== undefined ? { wakeAt } : {}) };
    // Interactive work first; among equals, round-robin over the stages so that every stage keeps moving.
    const interactive = candidates.filter((c) => c.priority === "interactive");
    const pool = interactive.length > 0 ? interactive : candidates;
    const order = (stage: Task["stage"]) => STAGE_ORDER.indexOf(stage as (typeof STAGE_ORDER)[number]);
    const sorted = pool.toSorted((a, b) => order(a.stage) - order(b.stage));
    // Everything that may join goes in before the next step (one prefill per turn, bounded by the free slots),
    // so a batch that forms while the GPT is idle starts whole instead of ramping up one sequence per step.
    const admitting = this.lastStage === order("admit") ? sorted.find((c) => c.stage === "admit") : undefined;
    const task = admitting ?? sorted.find((c) => order(c.stage) > this.lastStage) ?? sorted[0] ?? null;
    if (task) this.lastStage = order(task.stage);
    return { task };
  }

  /** segments that left the GPT and have no audio yet */
  private downstreamRows(): number {
    return this.readyForProjection.length + this.s2mel.size + this.vocoder.size;
  }

  private pickByPriority(segments: readonly SegmentState[]): SegmentState | undefined {
    return segments.find((s) => s.request.priority === "interactive") ?? segments[0];
  }

  private async timed<T>(stage: StageName, batch: number, fn: () => Promise<T>): Promise<T> {
    const start = this.now();
    const result = await fn();
    this.observer.stageRun(stage, (this.now() - start) / 1000, batch);
    return result;
  }

  private async admit(seg: SegmentState): Promise<void> {
    this.waiting = this.waiting.filter((s) => s !== seg);
    const request = seg.request;
    if (request.admittedAt === null) {
      this.memory.reserve(request);
      request.admittedAt = this.now();
    }
    if (!request.condPrefix) await this.timed("conditioning", 1, () => this.gpt.condition(request));
    seg.stage = "decoding";
    const complete = await this.timed("prefill", 1, () => this.gpt.prefill(seg));
    if (complete) this.gptFinished(seg);
  }

  private async decode(): Promise<void> {
    const batch = this.gpt.occupancy;
    const done = await this.timed("decode", batch, () => this.gpt.step());
    for (const seg of done) this.gptFinished(seg);
  }

  private gptFinished(seg: SegmentState): void {
    if (seg.request.finished) return;
    if (seg.codes.length === 0) {
      // an immediate stop token: the segment is silent
      seg.audio = new Float32Array(0);
      seg.stage = "done";
      this.segmentDone(seg);
      return;
    }
    seg.stage = "projecting";
    this.readyForProjection.push(seg);
  }

  private async project(seg: SegmentState): Promise<void> {
    this.readyForProjection = this.readyForProjection.filter((s) => s !== seg);
    await this.timed("projector", 1, () => this.s2mel.prepare(seg, this.now()));
  }

  private async cfmStep(): Promise<void> {
    const start = this.now();
    const { done, batch } = await this.s2mel.step();
    this.observer.stageRun("cfm_step", (this.now() - start) / 1000, batch);
    for (const seg of done) this.vocoder.enqueue(seg, this.now());
  }

  private async vocode(): Promise<void> {
    const start = this.now();
    const { done, batch } = await this.vocoder.step();
    this.observer.stageRun("vocoder", (this.now() - start) / 1000, batch);
    for (const seg of done) this.segmentDone(seg);
  }

  private segmentDone(seg: SegmentState): void {
    const request = seg.request;
    if (request.finished || !request.segments.every((s) => s.stage === "done")) return;
    const entry = this.pending.get(request.id);
    if (!entry) return;
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
    this.waiting = this.waiting.filter((s) => !s.request.finished);
    this.readyForProjection = this.readyForProjection.filter((s) => !s.request.finished);
    this.gpt.evictFinishedRequests();
    this.s2mel.evictFinishedRequests();
    this.vocoder.evictFinishedRequests();
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
