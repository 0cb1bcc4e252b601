/**
 * The gpu-node's and the proxy's /metrics during a run: a small parser for the Prometheus text format and the few
 * series the report needs, turned into per-interval figures (rates from counter deltas).
 */
export interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parsePrometheus(text: string): Series[] {
  const out: Series[] = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = LINE.exec(line);
    if (!m?.[1] || m[3] === undefined) continue;
    const value = Number(m[3]);
    if (Number.isNaN(value)) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(LABEL)) if (l[1]) labels[l[1]] = (l[2] ?? "").replace(/\\(.)/g, "$1");
    out.push({ name: m[1], labels, value });
  }
  return out;
}

/** Sum of a metric's series whose labels include `where`. */
export function sum(series: readonly Series[], name: string, where: Record<string, string> = {}): number | null {
  let total = 0;
  let found = false;
  for (const s of series) {
    if (s.name !== name) continue;
    if (!Object.entries(where).every(([k, v]) => s.labels[k] === v)) continue;
    total += s.value;
    found = true;
  }
  return found ? total : null;
}

/** What one scrape of the node says (cumulative counters as they are; the timeline takes differences). */
export interface NodeScrape {
  at: number;
  busySeconds: number | null;
  queueDepth: number | null;
  inFlight: number | null;
  gptBatch: number | null;
  decodeBatchSum: number | null;
  decodeBatchCount: number | null;
  rejects: number | null;
  audioSeconds: number | null;
  tokens: number | null;
  gpuUtil: number | null;
  gpuMemUtil: number | null;
  gpuPower: number | null;
}

export function readNode(series: readonly Series[], at: number): NodeScrape {
  return {
    at,
    busySeconds: sum(series, "gpu_node_engine_busy_seconds_total"),
    queueDepth: sum(series, "gpu_node_queue_depth"),
    inFlight: sum(series, "gpu_node_in_flight"),
    gptBatch: sum(series, "gpu_node_gpt_batch_occupancy"),
    decodeBatchSum: sum(series, "gpu_node_batch_size_sum", { stage: "decode" }),
    decodeBatchCount: sum(series, "gpu_node_batch_size_count", { stage: "decode" }),
    rejects: sum(series, "gpu_node_rejects_total"),
    audioSeconds: sum(series, "gpu_node_audio_seconds_total"),
    tokens: sum(series, "gpu_node_semantic_tokens_total"),
    gpuUtil: sum(series, "gpu_node_gpu_utilization_percent"),
    gpuMemUtil: sum(series, "gpu_node_gpu_memory_utilization_percent"),
    gpuPower: sum(series, "gpu_node_gpu_power_watts"),
  };
}

export interface ProxyScrape {
  at: number;
  rateLimited: number | null;
  requests: number | null;
  requests5xx: number | null;
  outstanding: number | null;
  tokens: number | null;
}

export function readProxy(series: readonly Series[], at: number): ProxyScrape {
  const counts = series.filter((s) => s.name === "proxy_request_seconds_count");
  return {
    at,
    rateLimited: sum(series, "proxy_rate_limited_total"),
    requests: counts.length ? counts.reduce((a, s) => a + s.value, 0) : null,
    requests5xx: counts.length
      ? counts.filter((s) => (s.labels.status ?? "").startsWith("5")).reduce((a, s) => a + s.value, 0)
      : null,
    outstanding: sum(series, "proxy_node_outstanding"),
    tokens: sum(series, "proxy_metered_tokens_total"),
  };
}

/** One interval of the node timeline: the engine's busy share and the mean decode batch between two scrapes. */
export interface NodePoint {
  at: number;
  /** share of wall time the engine spent in graph calls (0 … 1) */
  busy: number | null;
  queueDepth: number | null;
  inFlight: number | null;
  meanDecodeBatch: number | null;
  rejectsPerS: number | null;
  gpuUtil: number | null;
}

export function nodePoint(prev: NodeScrape, cur: NodeScrape): NodePoint {
  const dt = (cur.at - prev.at) / 1000;
  const delta = (a: number | null, b: number | null) => (a !== null && b !== null ? b - a : null);
  const busy = delta(prev.busySeconds, cur.busySeconds);
  const bs = delta(prev.decodeBatchSum, cur.decodeBatchSum);
  const bc = delta(prev.decodeBatchCount, cur.decodeBatchCount);
  const rejects = delta(prev.rejects, cur.rejects);
  return {
    at: cur.at,
    busy: busy !== null && dt > 0 ? Math.min(1, Math.max(0, busy / dt)) : null,
    queueDepth: cur.queueDepth,
    inFlight: cur.inFlight,
    meanDecodeBatch: bs !== null && bc ? bs / bc : null,
    rejectsPerS: rejects !== null && dt > 0 ? rejects / dt : null,
    gpuUtil: cur.gpuUtil,
  };
}

export interface ProxyPoint {
  at: number;
  rateLimitedPerS: number | null;
  requestsPerS: number | null;
  errors5xxPerS: number | null;
  outstanding: number | null;
}

export function proxyPoint(prev: ProxyScrape, cur: ProxyScrape): ProxyPoint {
  const dt = (cur.at - prev.at) / 1000;
  const rate = (a: number | null, b: number | null) => (a !== null && b !== null && dt > 0 ? (b - a) / dt : null);
  return {
    at: cur.at,
    rateLimitedPerS: rate(prev.rateLimited, cur.rateLimited),
    requestsPerS: rate(prev.requests, cur.requests),
    errors5xxPerS: rate(prev.requests5xx, cur.requests5xx),
    outstanding: cur.outstanding,
  };
}
