import { describe, expect, it } from "vitest";
import { classifyBottleneck } from "./bottleneck.ts";
import { parseDmonLog, parseGpuLog, parseQueryLog, parseSmiTimestamp } from "./nvidia.ts";
import { nodePoint, parsePrometheus, readNode, sum } from "./prom.ts";
import type { SpanFigures } from "./sampler.ts";

const figures = (over: Partial<SpanFigures>): SpanFigures => ({
  smPercent: null,
  memPercent: null,
  memoryUsedPercent: null,
  memoryUsedMiB: null,
  powerWatts: null,
  energyJoules: null,
  engineBusy: null,
  meanDecodeBatch: null,
  meanQueueDepth: null,
  ...over,
});

describe("nvidia-smi logs", () => {
  it("reads the article's untimed `dmon -s u -d 1` log, one interval per repeat of the GPU index", () => {
    const log = [
      "# gpu    sm   mem   enc   dec",
      "# Idx     %     %     %     %",
      "    0    45    20     0     0",
      "    1    40    18     0     0",
      "    0    98    71     0     0",
      "    1    97    70     0     0",
    ].join("\n");
    const s = parseDmonLog(log, 10_000, 1000);
    expect(s.map((x) => [x.index, x.smPercent, x.at])).toEqual([
      [0, 45, 10_000],
      [1, 40, 10_000],
      [0, 98, 11_000],
      [1, 97, 11_000],
    ]);
  });

  it("reads `dmon -s u -o T` lines by their own time of day, headers repeated", () => {
    const log = [
      "#Time        gpu    sm   mem   enc   dec",
      "#HH:MM:SS    Idx     %     %     %     %",
      " 17:47:43      0    82    40     0     0",
      "#Time        gpu    sm   mem   enc   dec",
      " 17:47:44      0    99    93     0     0",
    ].join("\n");
    const day = new Date(2026, 11, 1, 0, 0, 0).getTime();
    const s = parseGpuLog(log, day);
    expect(s).toHaveLength(2);
    expect(s[1]?.at).toBe(new Date(2026, 11, 1, 17, 47, 44).getTime());
    expect(s[1]?.memPercent).toBe(93);
  });

  it("reads a timestamped --query-gpu CSV log (and one without timestamps)", () => {
    const log =
      "2026/12/01 17:47:43.250, 0, NVIDIA GeForce RTX 3090, 87, 41, 20123, 24576, 312.50, 123456789\n" +
      "2026/12/01 17:47:44.250, 0, NVIDIA GeForce RTX 3090, 91, 44, 20200, 24576, 330.10, 123786789\n";
    const s = parseQueryLog(log, 0);
    expect(s).toHaveLength(2);
    expect(s[0]).toMatchObject({
      name: "NVIDIA GeForce RTX 3090",
      smPercent: 87,
      powerWatts: 312.5,
      energyJoules: 123456.789,
    });
    expect((s[1]?.at ?? 0) - (s[0]?.at ?? 0)).toBe(1000);
    expect(parseSmiTimestamp("2026/12/01 17:47:43.250")).toBe(new Date(2026, 11, 1, 17, 47, 43, 250).getTime());
    expect(parseQueryLog("0, A10G, 5, 1, 300, 23028, 60, [N/A]\n", 42)[0]).toMatchObject({ at: 42, smPercent: 5 });
    expect(parseGpuLog("No devices were found\n", 0)).toEqual([]);
  });
});

describe("Prometheus scrapes", () => {
  const text = (busy: number, decodeSum: number, decodeCount: number) => `# HELP gpu_node_engine_busy_seconds_total x
# TYPE gpu_node_engine_busy_seconds_total gauge
gpu_node_engine_busy_seconds_total ${busy}
gpu_node_queue_depth 3
gpu_node_batch_size_sum{stage="decode"} ${decodeSum}
gpu_node_batch_size_count{stage="decode"} ${decodeCount}
gpu_node_batch_size_sum{stage="vocoder"} 99
gpu_node_rejects_total{reason="queue_full"} 2
gpu_node_rejects_total{reason="text_too_long"} 1
weird_label{a="x\\"y"} 1
`;
  it("parses series with labels and turns counter deltas into rates", () => {
    const s = parsePrometheus(text(10, 400, 100));
    expect(sum(s, "gpu_node_rejects_total")).toBe(3);
    expect(sum(s, "gpu_node_batch_size_sum", { stage: "decode" })).toBe(400);
    expect(s.find((x) => x.name === "weird_label")?.labels.a).toBe('x"y');
    const p = nodePoint(readNode(s, 0), readNode(parsePrometheus(text(10.5, 1000, 200)), 1000));
    expect(p.busy).toBeCloseTo(0.5, 9);
    expect(p.meanDecodeBatch).toBe(6);
    expect(p.queueDepth).toBe(3);
    expect(sum(s, "missing")).toBeNull();
  });
});

describe("the article's bottleneck rule", () => {
  it("SM ≈ 100 % is compute-bound, memory > 90 % memory-bound, both low yet slow CPU or I/O", () => {
    expect(classifyBottleneck(figures({ smPercent: 99, memPercent: 50 }), true).verdict).toBe("compute-bound");
    expect(classifyBottleneck(figures({ smPercent: 60, memPercent: 93 }), true).verdict).toBe("memory-bound");
    expect(classifyBottleneck(figures({ smPercent: 60, memoryUsedPercent: 95 }), true).verdict).toBe("memory-bound");
    expect(classifyBottleneck(figures({ smPercent: 30, memPercent: 20 }), true).verdict).toBe("cpu-or-io-bound");
    expect(classifyBottleneck(figures({ smPercent: 30, memPercent: 20 }), false).verdict).toBe("not-saturated");
  });

  it("says so when there is no GPU to judge, and reports the engine's busy share instead", () => {
    const r = classifyBottleneck(figures({ engineBusy: 0.97 }), true);
    expect(r.verdict).toBe("no-gpu-data");
    expect(r.reason).toContain("97 %");
  });
});
