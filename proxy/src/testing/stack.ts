import { type ChildProcess, spawn } from "node:child_process";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { Hono } from "hono";
import { endFrame, SEGMENTS_CONTENT_TYPE, segmentFrame } from "../../../audio/segment-frames.ts";
import { nodeAudioCodecs } from "../adapters/node/audio-codecs.ts";
import { nodeDocsAssets } from "../adapters/node/docs-assets.ts";
import { drainEarlyAnswers } from "../adapters/node/early-answers.ts";
import { createPromMetrics } from "../adapters/node/prom-metrics.ts";
import { nodeSha256Hex } from "../adapters/node/sha256.ts";
import { UndiciTransport } from "../adapters/node/undici-transport.ts";
import { ensureDefaultPlans } from "../bootstrap.ts";
import { composeProxy, defaultProxyConfig } from "../compose.ts";
import { createClientIpResolver, LOOPBACK_CIDRS } from "../core/rate-limit/client-ip.ts";
import { InMemoryConcurrencyLimiter, InMemoryRateLimiter } from "../core/rate-limit/gcra.ts";
import { timerScheduler } from "../core/routing/health.ts";
import type { DocsAssets, ProxyConfig } from "../http/deps.ts";
import { InMemoryJobStore, InMemoryResultStore } from "../jobs/memory.ts";
import { createMemoryStores } from "../store/memory/index.ts";
import type { Stores } from "../store/ports.ts";
import { gpuNodeAdapter, type UpstreamAdapter } from "../upstream/adapters.ts";
import type { UpstreamTransport } from "../upstream/transport.ts";

export const ADMIN_TOKEN = "test-admin-token-0123456789";

/** A 16-bit mono 22,050 Hz WAV of `ms` milliseconds of silence, built by hand. */
export function silentWav(ms: number): Uint8Array {
  const samples = Math.round((22050 * ms) / 1000);
  const buf = new Uint8Array(44 + samples * 2);
  const v = new DataView(buf.buffer);
  const put = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) v.setUint8(at + i, s.charCodeAt(i));
  };
  put(0, "RIFF");
  v.setUint32(4, 36 + samples * 2, true);
  put(8, "WAVE");
  put(12, "fmt ");
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, 22050, true);
  v.setUint32(28, 44100, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  put(36, "data");
  v.setUint32(40, samples * 2, true);
  return buf;
}

/**
 * - ok: the WAV; garbage: 200 with bytes that are no WAV; lying: a WAV whose x-audio-duration-ms claims 3× its length;
 * - error500 / busy503: the node's own error, its backpressure (503 + Retry-After);
 * - truncate: the headers and half the WAV, then the connection is cut (a node dying mid-answer).
 */
export type StubBehaviour = "ok" | "garbage" | "lying" | "error500" | "busy503" | "truncate";

/** A stand-in GPU node on 127.0.0.1 whose behaviour a test can switch; counts what it served. */
export async function startStubNode(audioMs = 2000, initialDelayMs = 0) {
  const state = {
    behaviour: "ok" as StubBehaviour,
    served: 0,
    lastBody: null as unknown,
    delayMs: initialDelayMs,
    /** what /healthz reports; `healthy: false` answers 500 */
    queueDepth: 0,
    healthy: true,
    /** when set, each /synthesize waits for it before answering (a test orders the node's work by hand) */
    gate: null as ((body: { text: string }, signal: AbortSignal) => Promise<void>) | null,
    /**
     * When set, a request that accepts streamed segments (as the proxy's streams do) is answered as the gpu-node
     * does: `count` segments of `audioMs` each, framed (audio/segment-frames.ts), each sent once `gate(index)`
     * resolves.
     */
    segments: null as { count: number; gate?: (index: number, signal: AbortSignal) => Promise<void> } | null,
  };
  const app = new Hono();
  app.get("/healthz", (c) =>
    state.healthy
      ? c.json({ queue_depth: state.queueDepth, in_flight: 0, free_slots: 8, ready: true })
      : c.json({ error: { code: "INTERNAL", message: "sick" } }, 500),
  );
  app.get("/info", (c) => c.json({ voices: [{ id: 0, name: "alice", description: "stub" }] }));
  app.post("/synthesize", async (c) => {
    state.served++;
    state.lastBody = await c.req.json();
    if (state.gate) await state.gate(state.lastBody as { text: string }, c.req.raw.signal);
    if (state.delayMs > 0) await new Promise((r) => setTimeout(r, state.delayMs));
    const segments = state.segments;
    if (segments && (c.req.header("accept") ?? "").includes(SEGMENTS_CONTENT_TYPE)) {
      const signal = c.req.raw.signal;
      const samples = Math.round((22050 * audioMs) / 1000);
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          try {
            for (let i = 0; i < segments.count; i++) {
              await segments.gate?.(i, signal);
              controller.enqueue(segmentFrame(i, new Int16Array(samples)));
            }
            const end = { segments: segments.count, samples: samples * segments.count };
            controller.enqueue(endFrame({ ...end, semantic_tokens: 0, queue_wait_ms: 0, compute_ms: 0 }));
            controller.close();
          } catch (e) {
            controller.error(e);
          }
        },
      });
      return c.body(body, 200, { "content-type": SEGMENTS_CONTENT_TYPE, "x-sample-rate": "22050" });
    }
    const wav = silentWav(audioMs);
    switch (state.behaviour) {
      case "garbage":
        return c.body("definitely not audio".padEnd(100, "!"), 200, { "content-type": "audio/wav" });
      case "lying":
        return c.body(wav as Uint8Array<ArrayBuffer>, 200, {
          "content-type": "audio/wav",
          "x-audio-duration-ms": String(audioMs * 3),
        });
      case "error500":
        return c.json({ error: { code: "INTERNAL", message: "boom" } }, 500);
      case "busy503":
        return c.json({ error: { code: "QUEUE_FULL", message: "full" } }, 503, { "retry-after": "3" });
      case "truncate": {
        const half = wav.subarray(0, wav.byteLength >> 1);
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(half);
            setTimeout(() => controller.error(new Error("node died")), 20);
          },
        });
        return c.body(body, 200, { "content-type": "audio/wav", "content-length": String(wav.byteLength) });
      }
      default:
        return c.body(wav as Uint8Array<ArrayBuffer>, 200, {
          "content-type": "audio/wav",
          "x-audio-duration-ms": audioMs.toFixed(1),
        });
    }
  });
  const server = await listen(app.fetch);
  return { ...server, state };
}

/**
 * A stand-in OpenAI-compatible speech server: POST /v1/audio/speech answers a WAV streamed the way such servers do
 * (chunked, RIFF and data sizes 0xFFFFFFFF), and nothing else: no /info, no duration header.
 */
export async function startStubOpenAiServer(audioMs = 1000) {
  const state = { served: 0, lastBody: null as unknown, lastAuthorization: null as string | null };
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ queue_depth: 0, in_flight: 0, free_slots: 8, ready: true }));
  app.post("/v1/audio/speech", async (c) => {
    state.served++;
    state.lastBody = await c.req.json();
    state.lastAuthorization = c.req.header("authorization") ?? null;
    const wav = silentWav(audioMs);
    const view = new DataView(wav.buffer, wav.byteOffset, wav.byteLength);
    view.setUint32(4, 0xffffffff, true);
    view.setUint32(40, 0xffffffff, true);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < wav.byteLength; at += 4096) controller.enqueue(wav.slice(at, at + 4096));
        controller.close();
      },
    });
    return c.body(body, 200, { "content-type": "audio/wav" });
  });
  const server = await listen(app.fetch);
  return { ...server, state };
}

export async function listen(fetch: (req: Request, ...rest: never[]) => Response | Promise<Response>) {
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: fetch as (req: Request) => Response, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  drainEarlyAnswers(server as Server);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

/** The proxy over HTTP on 127.0.0.1 with in-memory stores (or given ones), real undici, given node URLs. */
export async function startProxy(
  nodeUrls: string[],
  options: {
    config?: Partial<ProxyConfig>;
    stores?: Stores;
    voices?: { id: number; name: string; description: string }[];
    /** default our gpu-node's */
    adapter?: UpstreamAdapter;
    /** default loopback: the test client may speak for others in X-Forwarded-For */
    trustedProxies?: string[];
    /** the app's structured log lines (default: dropped) */
    log?: (line: Record<string, unknown>) => void;
  } = {},
) {
  const stores = options.stores ?? createMemoryStores();
  await ensureDefaultPlans(stores);
  // Registered like the Node entry registers GPU_NODES, so the admin API lists, drains and removes them.
  for (const [i, url] of nodeUrls.entries()) await stores.nodes.add({ id: `node${i}`, url });
  const transport = new UndiciTransport();
  const composed = composeProxy({
    stores,
    nodes: nodeUrls.map((url, i) => ({ id: `node${i}`, url })),
    transport,
    adapter: options.adapter ?? gpuNodeAdapter,
    audio: nodeAudioCodecs,
    rateLimiter: new InMemoryRateLimiter(),
    concurrency: new InMemoryConcurrencyLimiter(),
    config: { ...defaultProxyConfig(ADMIN_TOKEN), ...options.config },
    voices: () => options.voices ?? [{ id: 0, name: "alice", description: "stub" }],
    metrics: createPromMetrics,
    remoteAddress: (c) => getConnInfo(c).remote.address,
    clientIp: createClientIpResolver({ trustedProxies: options.trustedProxies ?? [...LOOPBACK_CIDRS] }),
    breaker: { consecutiveFailures: 3, baseOpenMs: 60_000, maxEjectionPercent: 50 },
    sha256: nodeSha256Hex,
    ...(options.log ? { log: options.log } : {}),
  });
  const server = await listen(composed.app.fetch);
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const newCustomer = async (planId = "basic") => {
    const created = await admin("POST", "/admin/customers", { name: "Test", email: "t@example.com", plan_id: planId });
    const customer = created.json.customer as { id: string };
    const key = await admin("POST", `/admin/customers/${customer.id}/keys`);
    return { id: customer.id, key: key.json.key as string, keyId: key.json.id as string };
  };
  return {
    ...composed,
    stores,
    url: server.url,
    admin,
    newCustomer,
    async close() {
      await server.close();
      await composed.ledger.close();
      await transport.close();
    },
  };
}

/** Spawn a script with tsx and wait for the line announcing its URL. */
export async function spawnService(
  script: string,
  env: Record<string, string>,
  pattern = /listening on (http:\/\/[^\s]+)/,
): Promise<{ url: string; child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start: ${out}`)), 30_000);
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = pattern.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}: ${out}`));
    });
  });
  return { url, child, output: () => out };
}

/** A transport that answers every node request with `audioMs` of silent WAV, in-process (no sockets). */
export function stubWavTransport(audioMs = 2000): UpstreamTransport & { requests: number } {
  const transport = {
    requests: 0,
    async request() {
      transport.requests++;
      return {
        status: 200,
        headers: { "content-type": "audio/wav", "x-audio-duration-ms": audioMs.toFixed(1) },
        body: silentWav(audioMs),
      };
    },
    async close() {},
  };
  return transport;
}

/**
 * The proxy app in-process, for `app.request()`: in-memory stores, default plans, one node "node0" reached through
 * `transport` (a stub answering silent WAV by default). Starts no server; `close()` flushes the ledger.
 */
export async function createInProcessProxy(
  options: {
    config?: Partial<ProxyConfig>;
    stores?: Stores;
    transport?: UpstreamTransport;
    voices?: { id: number; name: string; description: string }[];
    /** serve the jobs API, over in-memory job and result stores (its feeder is built, not started) */
    jobs?: boolean;
    /** the interactive /docs's files (default: swagger-ui-dist from node_modules) */
    docsAssets?: DocsAssets;
  } = {},
) {
  const stores = options.stores ?? createMemoryStores();
  await ensureDefaultPlans(stores);
  const jobs = options.jobs
    ? { store: new InMemoryJobStore(), results: new InMemoryResultStore(), scheduler: timerScheduler }
    : undefined;
  const composed = composeProxy({
    stores,
    nodes: [{ id: "node0", url: "http://node0.invalid" }],
    transport: options.transport ?? stubWavTransport(),
    adapter: gpuNodeAdapter,
    audio: nodeAudioCodecs,
    rateLimiter: new InMemoryRateLimiter(),
    concurrency: new InMemoryConcurrencyLimiter(),
    config: { ...defaultProxyConfig(ADMIN_TOKEN), ...options.config },
    voices: () => options.voices ?? [{ id: 0, name: "alice", description: "stub" }],
    metrics: createPromMetrics,
    remoteAddress: () => "127.0.0.1",
    clientIp: createClientIpResolver({ trustedProxies: [] }),
    ...(jobs ? { jobs } : {}),
    docsAssets: options.docsAssets ?? nodeDocsAssets(),
  });
  const request = (path: string, init: RequestInit = {}) => composed.app.request(path, init);
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await request(path, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const newCustomer = async (planId = "basic") => {
    const created = await admin("POST", "/admin/customers", { name: "Test", email: "t@example.com", plan_id: planId });
    const customer = created.json.customer as { id: string };
    const key = await admin("POST", `/admin/customers/${customer.id}/keys`);
    return { id: customer.id, key: key.json.key as string, keyId: key.json.id as string };
  };
  return {
    ...composed,
    stores,
    jobStore: jobs?.store ?? null,
    request,
    admin,
    newCustomer,
    close: () => composed.ledger.close(),
  };
}
