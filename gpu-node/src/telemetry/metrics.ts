import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { CompletedRequest, EngineObserver, StageName } from "../engine/observer.ts";
import type { GpuSampler } from "./gpu.ts";

export interface EngineStatsSource {
  stats(): {
    queued: number;
    inFlight: number;
    gptBatch: number;
    s2melRows: number;
    vocoderRows: number;
    busySeconds: number;
    throughputCodesPerSecond: number | null;
  };
}

/**
 * The node's Prometheus metrics (prom-client, one registry per node so tests can run several).
 * It is the engine's observer; gauges read the engine and the GPU sampler when scraped.
 */
export class NodeMetrics implements EngineObserver {
  readonly registry = new Registry();
  private readonly stageSeconds: Histogram<"stage">;
  private readonly batchSize: Histogram<"stage">;
  private readonly tokens: Counter;
  private readonly audioSeconds: Counter;
  private readonly requests: Counter<"priority">;
  private readonly failures: Counter<"code">;
  private readonly rejects: Counter<"reason">;
  private readonly rtf: Histogram;
  private readonly latency: Histogram<"priority">;
  private readonly queueWait: Histogram;
  private lastBusy = { at: 0, busy: 0, ratio: 0 };

  constructor(engine: EngineStatsSource, gpu: GpuSampler, now: () => number = () => performance.now()) {
    const registers = [this.registry];
    this.stageSeconds = new Histogram({
      name: "gpu_node_stage_seconds",
      help: "Wall time of one graph call per pipeline stage",
      labelNames: ["stage"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.batchSize = new Histogram({
      name: "gpu_node_batch_size",
      help: "Rows per graph call (GPT decode: sequences; cfm_step and vocoder: segments)",
      labelNames: ["stage"],
      buckets: [1, 2, 4, 8, 12, 16, 24, 32, 48, 64],
      registers,
    });
    this.tokens = new Counter({ name: "gpu_node_semantic_tokens_total", help: "Semantic tokens generated", registers });
    this.audioSeconds = new Counter({
      name: "gpu_node_audio_seconds_total",
      help: "Audio seconds produced",
      registers,
    });
    this.requests = new Counter({
      name: "gpu_node_requests_completed_total",
      help: "Synthesis requests completed",
      labelNames: ["priority"],
      registers,
    });
    this.failures = new Counter({
      name: "gpu_node_requests_failed_total",
      help: "Accepted requests that failed, by error code",
      labelNames: ["code"],
      registers,
    });
    this.rejects = new Counter({
      name: "gpu_node_rejects_total",
      help: "Requests refused at admission (backpressure), by reason",
      labelNames: ["reason"],
      registers,
    });
    this.rtf = new Histogram({
      name: "gpu_node_real_time_factor",
      help: "Seconds from arrival to completion per second of audio",
      buckets: [0.05, 0.1, 0.2, 0.33, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20],
      registers,
    });
    this.latency = new Histogram({
      name: "gpu_node_request_seconds",
      help: "Arrival to completion",
      labelNames: ["priority"],
      buckets: [0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 60],
      registers,
    });
    this.queueWait = new Histogram({
      name: "gpu_node_queue_wait_seconds",
      help: "Arrival until the first segment starts decoding",
      buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers,
    });
    const gauge = (name: string, help: string, read: () => number | null) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const v = read();
          if (v !== null) this.set(v);
        },
      });
    gauge("gpu_node_queue_depth", "Requests accepted and not yet decoding", () => engine.stats().queued);
    gauge("gpu_node_in_flight", "Requests accepted and not finished", () => engine.stats().inFlight);
    gauge("gpu_node_gpt_batch_occupancy", "Sequences in the GPT batch", () => engine.stats().gptBatch);
    gauge("gpu_node_s2mel_rows", "Segments in the CFM stage", () => engine.stats().s2melRows);
    gauge("gpu_node_vocoder_rows", "Segments waiting for the vocoder", () => engine.stats().vocoderRows);
    gauge(
      "gpu_node_engine_busy_seconds_total",
      "Seconds the engine spent in graph calls",
      () => engine.stats().busySeconds,
    );
    gauge("gpu_node_engine_busy_ratio", "Share of wall time in graph calls since the previous scrape", () => {
      const t = now();
      const busy = engine.stats().busySeconds;
      const wall = (t - this.lastBusy.at) / 1000;
      if (wall >= 0.25) this.lastBusy = { at: t, busy, ratio: Math.min(1, (busy - this.lastBusy.busy) / wall) };
      return this.lastBusy.ratio;
    });
    gauge(
      "gpu_node_tokens_per_second",
      "Semantic tokens completed per second (last minute)",
      () => engine.stats().throughputCodesPerSecond ?? 0,
    );
    const gpuGauge = (
      name: string,
      help: string,
      pick: (s: ReturnType<GpuSampler["latest"]>[number]) => number | undefined,
    ) =>
      new Gauge({
        name,
        help,
        labelNames: ["gpu"],
        registers,
        collect() {
          for (const s of gpu.latest()) {
            const v = pick(s);
            if (v !== undefined) this.set({ gpu: String(s.index) }, v);
          }
        },
      });
    gpuGauge("gpu_node_gpu_utilization_percent", "SM utilisation (nvidia-smi)", (s) => s.smPercent);
    gpuGauge(
      "gpu_node_gpu_memory_utilization_percent",
      "Memory-controller utilisation (nvidia-smi)",
      (s) => s.memPercent,
    );
    gpuGauge("gpu_node_gpu_memory_used_mib", "GPU memory used (nvidia-smi)", (s) => s.memoryUsedMiB);
    gpuGauge("gpu_node_gpu_power_watts", "GPU power draw (nvidia-smi)", (s) => s.powerWatts);
  }

  stageRun(stage: StageName, seconds: number, batchSize: number): void {
    this.stageSeconds.observe({ stage }, seconds);
    if (stage === "decode" || stage === "cfm_step" || stage === "vocoder") this.batchSize.observe({ stage }, batchSize);
  }

  rejected(reason: string): void {
    this.rejects.inc({ reason });
  }

  completed(r: CompletedRequest): void {
    this.tokens.inc(r.semanticTokens);
    this.audioSeconds.inc(r.audioSeconds);
    this.requests.inc({ priority: r.priority });
    this.latency.observe({ priority: r.priority }, r.totalSeconds);
    this.queueWait.observe(r.queueSeconds);
    if (r.audioSeconds > 0) this.rtf.observe(r.totalSeconds / r.audioSeconds);
  }

  failed(code: string): void {
    this.failures.inc({ code });
  }

  /** Count a refusal that happened before the engine (validation) under the same metric. */
  rejectedInput(code: string): void {
    this.rejects.inc({ reason: code.toLowerCase() });
  }
}
