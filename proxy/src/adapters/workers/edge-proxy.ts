import { composeProxy, defaultProxyConfig } from "../../compose.ts";
import { createClientIpResolver } from "../../core/rate-limit/client-ip.ts";
import type { BreakerOptions } from "../../core/routing/breaker.ts";
import { timerScheduler } from "../../core/routing/health.ts";
import type { DocsAssets } from "../../http/deps.ts";
import { gpuNodeAdapter } from "../../upstream/adapters.ts";
import { workerAudioCodecs } from "./audio-codecs.ts";
import { createEdgeBilling } from "./billing.ts";
import { createD1Stores, openD1 } from "./d1/index.ts";
import { DurableConcurrencyLimiter, DurableRateLimiter } from "./durable-limiters.ts";
import { log, nodeHealthStub, parseWorkerConfig, type WorkerBindings } from "./env.ts";
import { FetchTransport } from "./fetch-transport.ts";
import { consumeJobBatch, QueuedD1JobStore } from "./jobs-queue.ts";
import { createIsolateMetrics } from "./metrics.ts";
import { R2ResultStore } from "./r2-results.ts";
import { type NodeHealthClient, SharedRouting } from "./shared-routing.ts";
import { QueueUsageLedger } from "./usage-queue.ts";

export interface EdgeProxyOptions {
  /** prefix of every limiter object's name (tests use one per case; deployments leave it out) */
  limiterPrefix?: string;
  breaker?: Partial<Omit<BreakerOptions, "onStateChange">>;
  /** the node-health object; default: the NODE_HEALTH binding's one object */
  nodeHealth?: () => NodeHealthClient;
}

/** A request slot held at most this long past the request deadline: only a dead isolate's slot ever expires. */
const LEASE_MARGIN_MS = 30_000;
/** How old node reports may be when the batch feeder finds no spare capacity and asks for fresh ones. */
const JOBS_REPORT_MAX_AGE_MS = 2_000;
/** A node report older than this says nothing about its load now: no batch work goes there. */
const REPORT_STALE_MS = 15_000;

/**
 * The proxy on Workers: the same `createApp` (through `composeProxy`) as on Node, with the edge adapters — D1 stores,
 * Durable Object limiters, the usage Queue, `fetch` to the nodes, and node health shared through a Durable Object.
 * Built once per isolate; `fetch` wraps the app with the routing refresh before and the breaker reports after.
 */
/** Swagger UI's files from the Worker's static assets binding. */
function fetcherDocsAssets(assets: Fetcher): DocsAssets {
  return {
    async get(name) {
      const res = await assets.fetch(new Request(`https://assets.invalid/${name}`));
      return res.ok ? res.text() : null;
    },
  };
}

export function createEdgeProxy(env: WorkerBindings, options: EdgeProxyOptions = {}) {
  const config = parseWorkerConfig(env);
  const db = openD1(env.DB);
  const stores = createD1Stores(db);
  const routing = new SharedRouting({
    client: options.nodeHealth ?? (() => nodeHealthStub(env)),
    ttlMs: config.ROUTING_TTL_MS,
    log,
  });
  const proxyConfig = {
    ...defaultProxyConfig(config.ADMIN_TOKEN),
    metricsToken: config.METRICS_TOKEN,
    ipPolicy: { ratePerSecond: config.IP_RATE_PER_SECOND, burst: config.IP_BURST },
  };
  const limiterOptions = options.limiterPrefix === undefined ? {} : { prefix: options.limiterPrefix };
  const retentionMs = config.JOBS_RETENTION_HOURS * 3_600_000;
  const composed = composeProxy({
    stores,
    ledger: new QueueUsageLedger(env.USAGE_QUEUE, stores.ledger),
    nodes: [],
    transport: new FetchTransport(),
    adapter: gpuNodeAdapter,
    audio: workerAudioCodecs,
    rateLimiter: new DurableRateLimiter(env.LIMITER, limiterOptions),
    concurrency: new DurableConcurrencyLimiter(
      env.LIMITER,
      proxyConfig.requestTimeoutMs + LEASE_MARGIN_MS,
      limiterOptions,
    ),
    config: proxyConfig,
    voices: () => routing.voices(),
    metrics: createIsolateMetrics,
    // No socket peer on Workers: the client is CF-Connecting-IP, which Cloudflare sets and overwrites.
    remoteAddress: () => undefined,
    clientIp: createClientIpResolver({ trustCfConnectingIp: true }),
    breaker: { ...options.breaker, onStateChange: routing.onStateChange },
    log,
    ...(env.DOCS_ASSETS ? { docsAssets: fetcherDocsAssets(env.DOCS_ASSETS) } : {}),
    // Batch jobs: D1 holds the queue, each item has a Queue message, the consumer runs it (`consumeJobs`).
    jobs: {
      store: new QueuedD1JobStore(db, env.JOBS_QUEUE, { retentionMs, log }),
      results: new R2ResultStore(env.JOB_RESULTS),
      config: {
        retentionMs,
        allowHttpCallbacks: config.JOBS_ALLOW_HTTP_CALLBACKS === "true",
        healthRefreshMs: JOBS_REPORT_MAX_AGE_MS,
        capacity: {
          headroomSlots: config.JOBS_HEADROOM_SLOTS,
          maxPerNode: config.JOBS_BATCH_SLOTS_PER_NODE,
          staleAfterMs: REPORT_STALE_MS,
          // A report here is up to a health round plus the routing TTL old (on Node, half a second): this isolate's
          // own batch work is remembered that long, so a report taken while it ran is not read as other proxies' load.
          reportWindowMs: Math.min(REPORT_STALE_MS, config.HEALTH_INTERVAL_MS + config.ROUTING_TTL_MS + 1_000),
        },
      },
      // Never started: no rounds on Workers (timers only run within a request). Messages drive `runItem` instead.
      scheduler: timerScheduler,
      wake: () => {},
      refreshHealth: () => routing.refresh(JOBS_REPORT_MAX_AGE_MS),
      fetch: (url, init) => fetch(url, init),
      // Metered into D1 itself, durable before the item is marked done (the usage Queue writes D1 only later).
      ledger: stores.ledger,
    },
  });
  routing.attach(composed);
  const jobWorker = composed.jobWorker;
  if (!jobWorker) throw new Error("the jobs feeder was not composed");
  // Billing over the app's stores (read-cached), so its writes (suspensions, Stripe ids) reach what requests read.
  composed.deps.billing = createEdgeBilling(env, db, composed.deps.stores);
  return {
    ...composed,
    jobWorker,
    routing,
    async fetch(request: Request, ctx: ExecutionContext): Promise<Response> {
      const waitUntil = (p: Promise<unknown>) => ctx.waitUntil(p);
      await routing.beforeRequest(waitUntil);
      try {
        return await composed.app.fetch(request, env, ctx);
      } finally {
        routing.afterRequest(waitUntil);
      }
    },
    /** The jobs Queue's consumer: each message runs its item through the feeder's core, with this isolate's routing. */
    async consumeJobs(batch: MessageBatch<unknown>, ctx: ExecutionContext) {
      const waitUntil = (p: Promise<unknown>) => ctx.waitUntil(p);
      await routing.beforeRequest(waitUntil);
      try {
        return await consumeJobBatch(batch, {
          runItem: (jobId, n) => jobWorker.runItem(jobId, n),
          queue: env.JOBS_QUEUE,
          ...(env.JOBS_DLQ ? { deadLetter: env.JOBS_DLQ } : {}),
          waitMaxSeconds: config.JOBS_WAIT_MAX_SECONDS,
          offPeakWaitSeconds: config.JOBS_OFF_PEAK_WAIT_SECONDS,
          log,
        });
      } finally {
        routing.afterRequest(waitUntil);
      }
    },
  };
}

export type EdgeProxy = ReturnType<typeof createEdgeProxy>;
