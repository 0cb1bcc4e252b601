/**
 * The proxy with the jobs API over HTTP on 127.0.0.1, for tests and the benchmark: real undici to the nodes, a real
 * health checker (fast), the batch feeder started. Stores in memory, or SQLite + disk results in `dataDir`.
 */

import { join } from "node:path";
import { getConnInfo } from "@hono/node-server/conninfo";
import { nodeAudioCodecs } from "../../adapters/node/audio-codecs.ts";
import { DiskResultStore } from "../../adapters/node/disk-results.ts";
import { createPromMetrics } from "../../adapters/node/prom-metrics.ts";
import { UndiciTransport } from "../../adapters/node/undici-transport.ts";
import { createSqliteStores, openSqlite } from "../../adapters/sqlite/index.ts";
import { SqliteJobStore } from "../../adapters/sqlite/jobs.ts";
import { ensureDefaultPlans } from "../../bootstrap.ts";
import { composeProxy, defaultProxyConfig } from "../../compose.ts";
import { createClientIpResolver, LOOPBACK_CIDRS } from "../../core/rate-limit/client-ip.ts";
import { InMemoryConcurrencyLimiter, InMemoryRateLimiter } from "../../core/rate-limit/gcra.ts";
import { HealthChecker, timerScheduler } from "../../core/routing/health.ts";
import type { ProxyConfig } from "../../http/deps.ts";
import { createMemoryStores } from "../../store/memory/index.ts";
import type { Stores } from "../../store/ports.ts";
import { ADMIN_TOKEN, listen } from "../../testing/stack.ts";
import { gpuNodeAdapter } from "../../upstream/adapters.ts";
import type { JobsConfig } from "../config.ts";
import { InMemoryJobStore, InMemoryResultStore } from "../memory.ts";
import type { JobStore, ResultStore } from "../ports.ts";

export interface JobsStackOptions {
  /** SQLite database and disk results here; in memory when absent */
  dataDir?: string;
  jobs?: Partial<JobsConfig>;
  config?: Partial<ProxyConfig>;
  healthIntervalMs?: number;
  /** how fast the test plans let keys call (default: far above anything a test sends) */
  planRate?: number;
}

export async function startJobsStack(nodeUrls: string[], options: JobsStackOptions = {}) {
  let stores: Stores;
  let jobStore: JobStore;
  let results: ResultStore;
  let closeDb = () => {};
  if (options.dataDir) {
    const db = openSqlite(join(options.dataDir, "proxy.db"));
    stores = createSqliteStores(db);
    jobStore = new SqliteJobStore(db, options.jobs?.retentionMs ? { retentionMs: options.jobs.retentionMs } : {});
    results = new DiskResultStore(join(options.dataDir, "job-results"));
    closeDb = () => db.$client.close();
  } else {
    stores = createMemoryStores();
    jobStore = new InMemoryJobStore(options.jobs?.retentionMs ? { retentionMs: options.jobs.retentionMs } : {});
    results = new InMemoryResultStore();
  }
  await ensureDefaultPlans(stores);
  const rate = options.planRate ?? 100_000;
  for (const plan of await stores.plans.listPlans()) {
    await stores.plans.upsertPlan({ ...plan, requestsPerSecond: rate, burst: rate, maxInFlight: 10_000 });
  }
  const transport = new UndiciTransport();
  let health: HealthChecker | null = null;
  const composed = composeProxy({
    stores,
    nodes: nodeUrls.map((url, i) => ({ id: `node${i}`, url })),
    transport,
    adapter: gpuNodeAdapter,
    audio: nodeAudioCodecs,
    rateLimiter: new InMemoryRateLimiter(),
    concurrency: new InMemoryConcurrencyLimiter(),
    config: {
      ...defaultProxyConfig(ADMIN_TOKEN),
      ipPolicy: { ratePerSecond: 1_000_000, burst: 1_000_000 },
      ...options.config,
    },
    voices: () => [{ id: 0, name: "alice", description: "stub" }],
    metrics: createPromMetrics,
    remoteAddress: (c) => getConnInfo(c).remote.address,
    clientIp: createClientIpResolver({ trustedProxies: [...LOOPBACK_CIDRS] }),
    jobs: {
      store: jobStore,
      results,
      config: { allowHttpCallbacks: true, ...options.jobs },
      scheduler: timerScheduler,
      refreshHealth: () => health?.checkAll() ?? Promise.resolve(),
      fetch: (url, init) => fetch(url, init),
    },
  });
  health = new HealthChecker({
    table: composed.nodes,
    breakers: composed.breakers,
    fetch: (url, init) => fetch(url, init),
    scheduler: timerScheduler,
    now: Date.now,
    intervalMs: options.healthIntervalMs ?? 1_000,
  });
  health.start();
  await health.checkAll();
  const worker = composed.jobWorker;
  if (!worker) throw new Error("jobs were not composed");
  worker.start();
  const server = await listen(composed.app.fetch);
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const newCustomer = async (planId = "batch") => {
    const created = await admin("POST", "/admin/customers", { name: "Test", email: "t@example.com", plan_id: planId });
    const customer = created.json.customer as { id: string };
    const key = await admin("POST", `/admin/customers/${customer.id}/keys`);
    return { id: customer.id, key: key.json.key as string };
  };
  return {
    ...composed,
    worker,
    // The stores the app reads, behind its read cache: writes through them clear it.
    stores: composed.deps.stores,
    jobStore,
    results,
    url: server.url,
    admin,
    newCustomer,
    async close() {
      health?.stop();
      await worker.stop(1_000);
      await server.close();
      await composed.ledger.close();
      await transport.close();
      closeDb();
    },
  };
}
