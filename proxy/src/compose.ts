import { createApp } from "./app.ts";
import type { ConcurrencyLimiter, RateLimiter } from "./core/rate-limit/port.ts";
import { LoadBalancer, type NodeConfig, NodeTable } from "./core/routing/balancer.ts";
import { type BreakerOptions, CircuitBreakers } from "./core/routing/breaker.ts";
import type { Scheduler } from "./core/routing/health.ts";
import { MAX_TEXT_CODE_POINTS } from "./core/text/length.ts";
import type { ProxyConfig, ProxyDeps, ProxyMetrics, VoiceInfo } from "./http/deps.ts";
import { defaultJobsConfig, type JobsConfig } from "./jobs/config.ts";
import { withJobMetrics } from "./jobs/metrics.ts";
import type { JobStore, ResultStore } from "./jobs/ports.ts";
import type { JobsService } from "./jobs/service.ts";
import { JobWorker } from "./jobs/worker.ts";
import { GroupCommitLedger, type GroupCommitOptions } from "./store/group-commit.ts";
import type { Stores, UsageLedger } from "./store/ports.ts";
import { type SharedCacheVersion, withReadCache } from "./store/read-cache.ts";
import { type AudioCodecs, wavOnlyCodecs } from "./synthesis/audio-port.ts";
import { PIECE_MAX_CHARS } from "./synthesis/pieces.ts";
import type { UpstreamAdapter } from "./upstream/adapters.ts";
import type { UpstreamTransport } from "./upstream/transport.ts";

export const defaultProxyConfig = (adminToken: string): ProxyConfig => ({
  adminToken,
  ipPolicy: { ratePerSecond: 5, burst: 10 },
  tokensPerSecond: 50,
  maxBodyBytes: 64 * 1024,
  maxTextChars: MAX_TEXT_CODE_POINTS,
  openAiVoiceMap: {},
  pieceMaxChars: PIECE_MAX_CHARS,
  requestTimeoutMs: 120_000,
  maxResponseBytes: 64 * 1024 * 1024,
  idempotencyTtlMs: 24 * 3600_000,
  noCapacityRetryAfterSeconds: 2,
});

export interface ComposeInput {
  stores: Stores;
  nodes: NodeConfig[];
  transport: UpstreamTransport;
  adapter: UpstreamAdapter;
  /** the response formats encoded here; default WAV only (the Worker) */
  audio?: AudioCodecs;
  rateLimiter: RateLimiter;
  concurrency: ConcurrencyLimiter;
  config: ProxyConfig;
  voices: () => VoiceInfo[];
  metrics: (breakers: CircuitBreakers, nodes: NodeTable) => ProxyMetrics;
  remoteAddress: ProxyDeps["remoteAddress"];
  clientIp: ProxyDeps["clientIp"];
  groupCommit?: GroupCommitOptions;
  /**
   * Where requests append usage rows. Default: group commit over `stores.ledger` (one process, one database). The
   * Workers entry passes its Queue producer: an isolate must not hold one request's promise for another's flush.
   */
  ledger?: UsageLedger;
  breaker?: Partial<BreakerOptions>;
  /** how long a key or price lookup is reused (default 1000 ms; 0: every request reads the store) */
  readCacheTtlMs?: number;
  /** several replicas on one database: the version their writes bump and their key lookups check (read-cache.ts) */
  readCacheShared?: SharedCacheVersion;
  /** lowercase hex SHA-256 (default Web Crypto; Node passes node:crypto) */
  sha256?: ProxyDeps["sha256"];
  /** the interactive API reference's files (Swagger UI); absent: /docs is the built-in static page */
  docsAssets?: ProxyDeps["docsAssets"];
  /** The batch plan's jobs API and its feeder (call `jobWorker.start()` where background timers run). */
  jobs?: {
    store: JobStore;
    results: ResultStore;
    config?: Partial<JobsConfig>;
    scheduler: Scheduler;
    /** re-reads the nodes' /healthz while batch work runs (the health checker's checkAll) */
    refreshHealth?: () => Promise<unknown>;
    /** for job callbacks */
    fetch?: (url: string, init: RequestInit) => Promise<Response>;
    /**
     * Where items are metered, durable before an item is marked done (default: the requests' ledger). The Workers
     * entry passes the D1 ledger: its requests' ledger is the usage Queue, which writes D1 only later.
     */
    ledger?: UsageLedger;
    /**
     * What a queued job nudges (default: a feeder round). The Workers entry has no rounds: its store sends one queue
     * message per item, and the queue consumer runs them.
     */
    wake?: () => void;
  };
  now?: () => number;
  log?: ProxyDeps["log"];
}

/** Build the proxy's object graph once per process (or isolate): node table, breakers, balancer, ledger, app. */
export function composeProxy(input: ComposeInput) {
  const now = input.now ?? Date.now;
  const nodes = new NodeTable(input.nodes);
  const breakers = new CircuitBreakers({ now, ...input.breaker });
  const balancer = new LoadBalancer({ table: nodes, breakers });
  // maxDelayMs 0: a commit at the end of each event-loop turn, holding every row that turn produced. No timer to wait
  // for at low load, one transaction per turn at high load.
  const ledger = new GroupCommitLedger(input.stores.ledger, { maxBatch: 512, maxDelayMs: 0, ...input.groupCommit });
  // Keys and prices are read on every request: cached briefly, and cleared by every write through `stores`.
  const stores = withReadCache(input.stores, {
    now,
    ...(input.readCacheTtlMs !== undefined ? { ttlMs: input.readCacheTtlMs } : {}),
    ...(input.readCacheShared
      ? {
          shared: input.readCacheShared,
          onSharedError: (error: unknown) =>
            input.log?.({ level: "warn", msg: "read cache: shared version not bumped", error: String(error) }),
        }
      : {}),
  });
  const deps: ProxyDeps = {
    stores,
    ledger: input.ledger ?? ledger,
    rateLimiter: input.rateLimiter,
    concurrency: input.concurrency,
    nodes,
    breakers,
    balancer,
    transport: input.transport,
    adapter: input.adapter,
    audio: input.audio ?? wavOnlyCodecs,
    voices: input.voices,
    metrics: input.metrics(breakers, nodes),
    config: input.config,
    remoteAddress: input.remoteAddress,
    clientIp: input.clientIp,
    now,
    ...(input.log ? { log: input.log } : {}),
    ...(input.sha256 ? { sha256: input.sha256 } : {}),
    ...(input.docsAssets ? { docsAssets: input.docsAssets } : {}),
  };
  const jobWorker = input.jobs ? composeJobs(input, withJobMetrics(input.jobs, deps.metrics), deps) : null;
  return { app: createApp(deps), deps, nodes, breakers, balancer, ledger, jobWorker };
}

/** The jobs API's service (set on `deps.jobs`) and its feeder, over the same node table, breakers and ledger. */
function composeJobs(input: ComposeInput, j: NonNullable<ComposeInput["jobs"]>, deps: ProxyDeps): JobWorker {
  const config = { ...defaultJobsConfig(input.config.requestTimeoutMs), ...j.config };
  const worker = new JobWorker({
    jobs: j.store,
    results: j.results,
    stores: deps.stores,
    ledger: j.ledger ?? deps.ledger,
    nodes: deps.nodes,
    breakers: deps.breakers,
    balancer: deps.balancer,
    transport: deps.transport,
    adapter: deps.adapter,
    config,
    tokensPerSecond: input.config.tokensPerSecond,
    maxResponseBytes: input.config.maxResponseBytes,
    requestTimeoutMs: input.config.requestTimeoutMs,
    scheduler: j.scheduler,
    now: deps.now ?? Date.now,
    metrics: deps.metrics,
    ...(j.refreshHealth ? { refreshHealth: j.refreshHealth } : {}),
    ...(j.fetch ? { fetch: j.fetch } : {}),
    ...(input.log ? { log: input.log } : {}),
  });
  const service: JobsService = {
    store: j.store,
    results: j.results,
    config,
    wake: j.wake ?? (() => void worker.tick()),
  };
  deps.jobs = service;
  return worker;
}
