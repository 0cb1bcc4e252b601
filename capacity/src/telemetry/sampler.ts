/**
 * Telemetry during a run: the GPUs (nvidia-smi, both formats), the gpu-node's /metrics and the proxy's /metrics,
 * sampled once per interval into timelines, and the figures of any stretch of it (a load step).
 */
import { join } from "node:path";
import { type GpuSample, startGpuSampling } from "./nvidia.ts";
import {
  type NodePoint,
  type NodeScrape,
  nodePoint,
  type ProxyPoint,
  type ProxyScrape,
  parsePrometheus,
  proxyPoint,
  readNode,
  readProxy,
} from "./prom.ts";

export interface Telemetry {
  /** where GPU figures came from: "nvidia-smi --query-gpu", "nvidia-smi dmon", a log file, or none */
  gpuSource: string;
  gpu: GpuSample[];
  /** dmon's samples when both ran (the article's sm/mem view) */
  dmon: GpuSample[];
  node: NodePoint[];
  proxy: ProxyPoint[];
}

export interface TelemetryOptions {
  intervalMs: number;
  nodeMetricsUrl?: string;
  proxyMetricsUrl?: string;
  /** the proxy's /metrics needs a bearer token (its METRICS_TOKEN or ADMIN_TOKEN) */
  proxyMetricsToken?: string;
  /** folder for the raw nvidia-smi logs */
  logDir?: string;
  nvidiaSmi?: string;
}

async function scrape(url: string, token?: string): Promise<string | null> {
  try {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(2000) });
    return res.ok ? await res.text() : null;
  } catch {
    return null;
  }
}

export interface TelemetrySession {
  stop(): Promise<Telemetry>;
}

export function startTelemetry(o: TelemetryOptions): TelemetrySession {
  const gpu = startGpuSampling({
    intervalMs: o.intervalMs,
    ...(o.nvidiaSmi ? { command: o.nvidiaSmi } : {}),
    ...(o.logDir ? { queryLog: join(o.logDir, "gpu-query.csv"), dmonLog: join(o.logDir, "gpu-dmon.txt") } : {}),
  });
  const node: NodePoint[] = [];
  const proxy: ProxyPoint[] = [];
  let prevNode: NodeScrape | null = null;
  let prevProxy: ProxyScrape | null = null;
  let busy = false;
  const poll = async () => {
    if (busy) return;
    busy = true;
    const at = Date.now();
    const [n, p] = await Promise.all([
      o.nodeMetricsUrl ? scrape(o.nodeMetricsUrl) : null,
      o.proxyMetricsUrl ? scrape(o.proxyMetricsUrl, o.proxyMetricsToken) : null,
    ]);
    if (n !== null) {
      const cur = readNode(parsePrometheus(n), at);
      if (prevNode) node.push(nodePoint(prevNode, cur));
      prevNode = cur;
    }
    if (p !== null) {
      const cur = readProxy(parsePrometheus(p), at);
      if (prevProxy) proxy.push(proxyPoint(prevProxy, cur));
      prevProxy = cur;
    }
    busy = false;
  };
  void poll();
  const timer = setInterval(() => void poll(), o.intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      const available = await gpu.available;
      await gpu.stop();
      const source = !available
        ? "none: nvidia-smi could not be run on this machine"
        : gpu.query.length > 0
          ? "nvidia-smi --query-gpu"
          : gpu.dmon.length > 0
            ? "nvidia-smi dmon -s u"
            : "none: nvidia-smi ran but reported no GPU";
      return { gpuSource: source, gpu: gpu.query.length > 0 ? gpu.query : gpu.dmon, dmon: gpu.dmon, node, proxy };
    },
  };
}

export interface SpanFigures {
  /** mean SM utilisation, % (GPU 0 and up averaged) */
  smPercent: number | null;
  /** mean memory-controller utilisation, % */
  memPercent: number | null;
  /** mean share of GPU memory in use, % */
  memoryUsedPercent: number | null;
  memoryUsedMiB: number | null;
  powerWatts: number | null;
  /** energy used over the span from the cumulative counter, joules */
  energyJoules: number | null;
  /** mean engine busy share of the gpu-node (0 … 1) */
  engineBusy: number | null;
  meanDecodeBatch: number | null;
  meanQueueDepth: number | null;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const defined = <T>(xs: (T | undefined | null)[]): T[] => xs.filter((x): x is T => x !== undefined && x !== null);

/** The telemetry of [fromMs, toMs] (unix ms). */
export function spanFigures(t: Telemetry, fromMs: number, toMs: number): SpanFigures {
  const inSpan = <T extends { at: number }>(xs: readonly T[]) => xs.filter((x) => x.at >= fromMs && x.at <= toMs);
  const g = inSpan(t.gpu);
  const util = inSpan(t.dmon.length > 0 ? t.dmon : t.gpu);
  const n = inSpan(t.node);
  const energy = (() => {
    const byGpu = new Map<number, number[]>();
    for (const s of g)
      if (s.energyJoules !== undefined) byGpu.set(s.index, [...(byGpu.get(s.index) ?? []), s.energyJoules]);
    if (byGpu.size === 0) return null;
    let total = 0;
    for (const xs of byGpu.values()) total += Math.max(0, (xs[xs.length - 1] ?? 0) - (xs[0] ?? 0));
    return total;
  })();
  return {
    smPercent: mean(util.map((s) => s.smPercent)),
    memPercent: mean(util.map((s) => s.memPercent)),
    memoryUsedPercent: mean(
      defined(
        g.map((s) =>
          s.memoryUsedMiB !== undefined && s.memoryTotalMiB ? (100 * s.memoryUsedMiB) / s.memoryTotalMiB : null,
        ),
      ),
    ),
    memoryUsedMiB: mean(defined(g.map((s) => s.memoryUsedMiB))),
    powerWatts: mean(defined(g.map((s) => s.powerWatts))),
    energyJoules: energy,
    engineBusy: mean(defined(n.map((p) => p.busy))),
    meanDecodeBatch: mean(defined(n.map((p) => p.meanDecodeBatch))),
    meanQueueDepth: mean(defined(n.map((p) => p.queueDepth))),
  };
}
