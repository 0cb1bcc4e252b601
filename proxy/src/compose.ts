import { createApp } from "./app.ts";
import type { ConcurrencyLimiter, RateLimiter } from "./core/rate-limit/port.ts";
import { LoadBalancer, type NodeConfig, NodeTable } from "./core/routing/balancer.ts";
import { type BreakerOptions, CircuitBreakers } from "./core/routing/breaker.ts";
import type { ProxyConfig, ProxyDeps, ProxyMetrics, VoiceInfo } from "./http/deps.ts";
import { GroupCommitLedger, type GroupCommitOptions } from "./store/group-commit.ts";
import type { Stores, UsageLedger } from "./store/ports.ts";
import { withReadCache } from "./store/read-cache.ts";
import type { UpstreamAdapter } from "./upstream/adapters.ts";
import type { UpstreamTransport } from "./upstream/transport.ts";

export const defaultProxyConfig = (adminToken: string): ProxyConfig => ({
  adminToken,
  ipPolicy: { ratePerSecond: 5, burst: 10 },
  tokensPerSecond: 50,
  maxBodyBytes: 64 * 1024,
  maxTextChars: 2000,
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
  /** lowercase hex SHA-256 (default Web Crypto; Node passes node:crypto) */
  sha256?: ProxyDeps["sha256"];
  now?: () => number;
  log?: ProxyDeps["log"];
}

/** Build the proxy's object graph once per process (or isolate): node table, breakers, balancer, ledger, app. */
export function composeProxy(input: ComposeInput) {
  const now = input.now ?? Date.now;
  const nodes = new NodeTable(input.nodes);
  const breakers = new CircuitBreakers({ now, ...input.breaker });
  const balancer = new LoadBalancer({ table: nodes, breakers });
  const ledger = new GroupCommitLedger(input.stores.ledger, { maxBatch: 512, maxDelayMs: 1, ...input.groupCommit });
  // Keys and prices are read on every request: cached briefly, and cleared by every write through `stores`.
  const stores = withReadCache(input.stores, {
    now,
    ...(input.readCacheTtlMs !== undefined ? { ttlMs: input.readCacheTtlMs } : {}),
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
    voices: input.voices,
    metrics: input.metrics(breakers, nodes),
    config: input.config,
    remoteAddress: input.remoteAddress,
    clientIp: input.clientIp,
    now,
    ...(input.log ? { log: input.log } : {}),
    ...(input.sha256 ? { sha256: input.sha256 } : {}),
  };
  return { app: createApp(deps), deps, nodes, breakers, balancer, ledger };
}
