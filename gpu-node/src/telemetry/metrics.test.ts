import { describe, expect, it } from "vitest";
import type { GpuSample, GpuSampler } from "./gpu.ts";
import { NodeMetrics } from "./metrics.ts";

const stats = {
  queued: 3,
  inFlight: 7,
  gptBatch: 4,
  s2melRows: 2,
  vocoderRows: 1,
  busySeconds: 0,
  throughputCodesPerSecond: 123.5 as number | null,
};
const source = { stats: () => stats };
const sampler = (samples: GpuSample[]): GpuSampler => ({ latest: () => samples, close: () => {} });
const value = (text: string, series: string) => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe("NodeMetrics (prom-client registry of one node)", () => {
  it("reads queue depth, in flight, occupancy and tokens/s from the engine when scraped", async () => {
    const text = await new NodeMetrics(source, sampler([])).registry.metrics();
    expect(value(text, "gpu_node_queue_depth")).toBe(3);
    expect(value(text, "gpu_node_in_flight")).toBe(7);
    expect(value(text, "gpu_node_gpt_batch_occupancy")).toBe(4);
    expect(value(text, "gpu_node_s2mel_rows")).toBe(2);
    expect(value(text, "gpu_node_vocoder_rows")).toBe(1);
    expect(value(text, "gpu_node_tokens_per_second")).toBe(123.5);
  });

  it("histograms batch sizes and per-stage latency, counts tokens, RTF, rejects by reason and failures", async () => {
    const m = new NodeMetrics(source, sampler([]));
    m.stageRun("decode", 0.02, 16);
    m.stageRun("decode", 0.01, 3);
    m.stageRun("cfm_step", 0.05, 5);
    m.stageRun("prefill", 0.03, 1);
    m.rejected("queue_full");
    m.rejected("queue_full");
    m.rejectedInput("UNKNOWN_SPEAKER");
    m.failed("CLIENT_CLOSED");
    m.completed({ priority: "interactive", semanticTokens: 100, audioSeconds: 2, queueSeconds: 0.1, totalSeconds: 1 });
    const text = await m.registry.metrics();
    expect(value(text, 'gpu_node_batch_size_bucket{le="2",stage="decode"}')).toBe(0);
    expect(value(text, 'gpu_node_batch_size_bucket{le="4",stage="decode"}')).toBe(1);
    expect(value(text, 'gpu_node_batch_size_bucket{le="16",stage="decode"}')).toBe(2);
    expect(value(text, 'gpu_node_batch_size_sum{stage="decode"}')).toBe(19);
    expect(value(text, 'gpu_node_batch_size_count{stage="cfm_step"}')).toBe(1);
    // prefill runs one segment at a time: it has a latency but no batch-size series
    expect(text).not.toContain('gpu_node_batch_size_count{stage="prefill"}');
    expect(value(text, 'gpu_node_stage_seconds_count{stage="prefill"}')).toBe(1);
    expect(value(text, 'gpu_node_stage_seconds_sum{stage="decode"}')).toBeCloseTo(0.03, 6);
    expect(value(text, 'gpu_node_rejects_total{reason="queue_full"}')).toBe(2);
    expect(value(text, 'gpu_node_rejects_total{reason="unknown_speaker"}')).toBe(1);
    expect(value(text, 'gpu_node_requests_failed_total{code="CLIENT_CLOSED"}')).toBe(1);
    expect(value(text, "gpu_node_semantic_tokens_total")).toBe(100);
    expect(value(text, "gpu_node_audio_seconds_total")).toBe(2);
    expect(value(text, 'gpu_node_real_time_factor_bucket{le="0.5"}')).toBe(1);
    expect(value(text, 'gpu_node_real_time_factor_bucket{le="0.33"}')).toBe(0);
  });

  it("reports the engine's busy fraction over the wall time between scrapes", async () => {
    let now = 0;
    const m = new NodeMetrics(source, sampler([]), () => now);
    now = 10_000;
    stats.busySeconds = 4;
    expect(value(await m.registry.metrics(), "gpu_node_engine_busy_ratio")).toBeCloseTo(0.4, 6);
    now = 12_000;
    stats.busySeconds = 6;
    expect(value(await m.registry.metrics(), "gpu_node_engine_busy_ratio")).toBeCloseTo(1, 6);
    expect(value(await m.registry.metrics(), "gpu_node_engine_busy_seconds_total")).toBe(6);
  });

  it("exposes nvidia-smi utilisation, memory and power per GPU when a GPU is there, and nothing when not", async () => {
    const gpu = sampler([
      { index: 0, smPercent: 87, memPercent: 41, memoryUsedMiB: 30123, powerWatts: 512.3, at: 1 },
      { index: 1, smPercent: 5, memPercent: 1, at: 1 },
    ]);
    const text = await new NodeMetrics(source, gpu).registry.metrics();
    expect(value(text, 'gpu_node_gpu_utilization_percent{gpu="0"}')).toBe(87);
    expect(value(text, 'gpu_node_gpu_utilization_percent{gpu="1"}')).toBe(5);
    expect(value(text, 'gpu_node_gpu_memory_utilization_percent{gpu="0"}')).toBe(41);
    expect(value(text, 'gpu_node_gpu_memory_used_mib{gpu="0"}')).toBe(30123);
    expect(value(text, 'gpu_node_gpu_power_watts{gpu="0"}')).toBe(512.3);
    expect(value(text, 'gpu_node_gpu_power_watts{gpu="1"}')).toBeUndefined();
    const none = await new NodeMetrics(source, sampler([])).registry.metrics();
    expect(none).not.toMatch(/^gpu_node_gpu_utilization_percent\{/m);
  });
});
