import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { Pool } from "undici";

export interface LevelResult {
  concurrency: number;
  requests: number;
  failures: number;
  seconds: number;
  requestsPerSecond: number;
  audioSecondsPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  meanBatch: number;
  /** CPU seconds the node process used during the level (all its threads), when measurable */
  nodeCpuSeconds?: number;
  /** audio seconds per node CPU second: the throughput a shared machine's load barely changes */
  audioSecondsPerCpuSecond?: number;
}

/** user + system CPU seconds of a process so far (Linux /proc; USER_HZ is 100), or null elsewhere. */
export function processCpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // fields after the parenthesised command name: state is field 3, utime 14, stime 15
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** Start a gpu-node child process with the given flags; resolves with its URL once it listens. */
export async function startNode(
  args: string[],
): Promise<{ url: string; child: ChildProcess; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ["--import", "tsx", "gpu-node/src/entry.node.ts", "--port", "0", ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      out += chunk;
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.once("exit", (code) => reject(new Error(`gpu-node exited with ${code} before listening: ${out}`)));
  });
  return {
    url,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;

/**
 * Closed-loop load: `concurrency` clients, each sending its share of `total` requests back to back.
 * Latency is measured per request from send to the last body byte.
 */
export async function runLevel(
  url: string,
  concurrency: number,
  total: number,
  payload: (i: number) => object,
  nodePid?: number,
): Promise<LevelResult> {
  const cpuBefore = processCpuSeconds(nodePid);
  // no client-side timeouts: under load a request may legitimately wait minutes in the node's queue
  const pool = new Pool(url, { connections: concurrency, keepAliveTimeout: 60_000, headersTimeout: 0, bodyTimeout: 0 });
  const latencies: number[] = [];
  const batches: number[] = [];
  let audioMs = 0;
  let failures = 0;
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const t = performance.now();
      const res = await pool.request({
        path: "/synthesize",
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(payload(i)),
      });
      await res.body.arrayBuffer();
      const ms = performance.now() - t;
      if (res.statusCode !== 200) {
        failures++;
        continue;
      }
      latencies.push(ms);
      audioMs += Number(res.headers["x-audio-duration-ms"]);
      batches.push(Number(res.headers["x-batch-size"]));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = processCpuSeconds(nodePid);
  const cpu = cpuBefore !== null && cpuAfter !== null ? cpuAfter - cpuBefore : null;
  await pool.close();
  latencies.sort((a, b) => a - b);
  return {
    concurrency,
    requests: latencies.length,
    failures,
    seconds,
    requestsPerSecond: latencies.length / seconds,
    audioSecondsPerSecond: audioMs / 1000 / seconds,
    p50Ms: quantile(latencies, 0.5),
    p95Ms: quantile(latencies, 0.95),
    meanBatch: batches.reduce((a, b) => a + b, 0) / Math.max(1, batches.length),
    ...(cpu !== null && cpu > 0 ? { nodeCpuSeconds: cpu, audioSecondsPerCpuSecond: audioMs / 1000 / cpu } : {}),
  };
}

/** Seconds spent per pipeline stage so far, from the node's /metrics (`gpu_node_stage_seconds_sum`). */
export async function stageSeconds(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^gpu_node_stage_seconds_sum\{stage="([a-z_]+)"\} ([0-9.e+-]+)$/gm)) {
    if (m[1] && m[2]) out[m[1]] = Number(m[2]);
  }
  return out;
}
