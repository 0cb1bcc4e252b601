import { mkdirSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { z } from "zod";
import { createBillingService, parseBillingEnv } from "../../billing/src/config.ts";
import { loadOrCreateAdminToken } from "./adapters/node/admin-token.ts";
import { nodeAudioCodecs } from "./adapters/node/audio-codecs.ts";
import { openNodeDatabase } from "./adapters/node/database.ts";
import { nodeDocsAssets } from "./adapters/node/docs-assets.ts";
import { drainable } from "./adapters/node/drain.ts";
import { drainEarlyAnswers } from "./adapters/node/early-answers.ts";
import { createOpsMetrics, withOpsMetrics } from "./adapters/node/ops-metrics.ts";
import { createPromMetrics } from "./adapters/node/prom-metrics.ts";
import { nodeSha256Hex } from "./adapters/node/sha256.ts";
import { UndiciTransport } from "./adapters/node/undici-transport.ts";
import { connectRedisLimiters } from "./adapters/redis/index.ts";
import { ensureDefaultPlans, ensureDemoCustomer } from "./bootstrap.ts";
import { composeProxy, defaultProxyConfig } from "./compose.ts";
import { clientIpResolverFromEnv } from "./core/rate-limit/client-ip.ts";
import { InMemoryConcurrencyLimiter, InMemoryRateLimiter } from "./core/rate-limit/gcra.ts";
import { HealthChecker, timerScheduler } from "./core/routing/health.ts";
import type { VoiceInfo } from "./http/deps.ts";
import { gpuNodeAdapter, openAiAdapter } from "./upstream/adapters.ts";

const list = (s: string) =>
  s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);
const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default("127.0.0.1"),
  DATA_DIR: z.string().default("data"),
  ADMIN_TOKEN: z.string().min(16).optional(),
  /** a bearer token for Prometheus to read /metrics with (the admin token works too) */
  METRICS_TOKEN: z.string().min(16).optional(),
  GPU_NODES: z.string().default("http://127.0.0.1:8001"),
  /** what the nodes speak: our gpu-node (POST /synthesize) or an OpenAI-compatible speech server (/v1/audio/speech) */
  UPSTREAM_API: z.enum(["gpu-node", "openai"]).default("gpu-node"),
  /** with UPSTREAM_API=openai: the model to ask for, and the voices offered (GET /v1/voices lists them in order) */
  OPENAI_MODEL: z.string().min(1).default("tts-1"),
  OPENAI_VOICES: z.string().min(1).default("alloy,echo,fable,onyx,nova,shimmer"),
  /** 1 s of audio = this many tokens */
  TOKENS_PER_SECOND: z.coerce.number().positive().default(50),
  /** longest piece of text sent to a node, in code points (proxy/SPEECH.md) */
  SPEECH_PIECE_MAX_CHARS: z.coerce.number().int().min(20).max(4096).default(300),
  /** OpenAI voice name → deployment voice id or name: "alloy=0,nova=1" */
  OPENAI_VOICE_MAP: z.string().default(""),
  REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(120_000),
  /** CIDRs of our own reverse proxies; empty by default: no forwarding header is trusted (README "Client IP") */
  TRUSTED_PROXIES: z.string().default(""),
  /** a platform header that carries the client address (e.g. Fly-Client-IP), believed only from a trusted peer */
  CLIENT_IP_HEADER: z.string().optional(),
  IP_RATE_PER_SECOND: z.coerce.number().positive().default(5),
  IP_BURST: z.coerce.number().int().positive().default(10),
  PLAN_TIME_ZONE: z.string().default("UTC"),
  SQLITE_SYNCHRONOUS: z.enum(["NORMAL", "FULL"]).default("NORMAL"),
  /** Postgres instead of the SQLite file in DATA_DIR: every replica on one database (storage/README.md) */
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).default(10),
  /** per-IP/per-key limits and in-flight caps shared by every replica; in-process when unset */
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  // Batch jobs (proxy/src/jobs/README.md): retention of finished jobs, feeder capacity, callbacks to http:// URLs.
  JOBS_RETENTION_HOURS: z.coerce.number().positive().default(168),
  JOBS_BATCH_SLOTS_PER_NODE: z.coerce.number().int().min(0).default(4),
  JOBS_HEADROOM_SLOTS: z.coerce.number().int().min(0).default(2),
  JOBS_ALLOW_HTTP_CALLBACKS: z.enum(["true", "false"]).default("false"),
});
const parsed = envSchema.safeParse(process.env);
if (!parsed.success) {
  console.error(`bad configuration: ${z.prettifyError(parsed.error)}`);
  process.exit(2);
}
const env = parsed.data;
if (env.DATABASE_URL && !env.ADMIN_TOKEN) {
  // Replicas share one database but not DATA_DIR: each would generate an admin token of its own.
  console.error("bad configuration: ADMIN_TOKEN is required with DATABASE_URL (every replica must share one)");
  process.exit(2);
}
let billingEnv: ReturnType<typeof parseBillingEnv>;
try {
  billingEnv = parseBillingEnv(process.env);
} catch (e) {
  console.error(String(e instanceof Error ? e.message : e));
  process.exit(2);
}

mkdirSync(env.DATA_DIR, { recursive: true });
const database = await openNodeDatabase({
  databaseUrl: env.DATABASE_URL,
  dataDir: env.DATA_DIR,
  sqliteSynchronous: env.SQLITE_SYNCHRONOUS,
  poolSize: env.DATABASE_POOL_SIZE,
  jobsRetentionMs: env.JOBS_RETENTION_HOURS * 3_600_000,
  log: (line) => console.log(line),
});
const { stores, jobStore } = database;
await ensureDefaultPlans(stores, env.PLAN_TIME_ZONE);
let adminToken = env.ADMIN_TOKEN;
if (!adminToken) {
  // Kept across restarts (generated on the first start only): see adapters/node/admin-token.ts.
  const stored = loadOrCreateAdminToken(env.DATA_DIR);
  adminToken = stored.token;
  console.log(`ADMIN_TOKEN not set: ${stored.created ? "generated one into" : "using the one in"} ${stored.file}`);
}

// Nodes: the configured ones plus those added through the admin API (kept in the database).
for (const url of list(env.GPU_NODES)) await stores.nodes.add({ url: url.replace(/\/+$/, "") });
const storedNodes = await stores.nodes.list();
// gpu-nodes list their voices on /info (refreshed below); an OpenAI-compatible server's come from OPENAI_VOICES.
let voices: VoiceInfo[] =
  env.UPSTREAM_API === "openai"
    ? list(env.OPENAI_VOICES).map((name, id) => ({ id, name, description: `${env.OPENAI_MODEL} voice` }))
    : [];
const adapter =
  env.UPSTREAM_API === "openai" ? openAiAdapter(env.OPENAI_MODEL, list(env.OPENAI_VOICES)) : gpuNodeAdapter;
const transport = new UndiciTransport();
const { jobResults } = database;
// ledger commit latency, billing runs, open usage dead letters: series the alert rules need (deploy/prometheus)
const ops = createOpsMetrics(database.sqlite);
const sharedLimiters = env.REDIS_URL ? connectRedisLimiters(env.REDIS_URL) : null;
const { app, nodes, breakers, ledger, deps, jobWorker } = composeProxy({
  stores: { ...stores, ledger: ops.timedLedger(stores.ledger) },
  nodes: storedNodes.map((n) => ({ id: n.id, url: n.url, pool: n.pool, weight: n.weight })),
  transport,
  adapter,
  audio: nodeAudioCodecs,
  // Replicas on one Postgres: a write on one (a revoked key, a suspension) empties every replica's read cache at once
  // through Redis; without Redis nothing tells the others, so they read the database on every request.
  ...(env.DATABASE_URL
    ? sharedLimiters
      ? { readCacheShared: sharedLimiters.cacheVersion }
      : { readCacheTtlMs: 0 }
    : {}),
  rateLimiter: sharedLimiters?.rateLimiter ?? new InMemoryRateLimiter(),
  concurrency: sharedLimiters?.concurrency ?? new InMemoryConcurrencyLimiter(),
  config: {
    ...defaultProxyConfig(adminToken),
    metricsToken: env.METRICS_TOKEN,
    ipPolicy: { ratePerSecond: env.IP_RATE_PER_SECOND, burst: env.IP_BURST },
    tokensPerSecond: env.TOKENS_PER_SECOND,
    pieceMaxChars: env.SPEECH_PIECE_MAX_CHARS,
    openAiVoiceMap: Object.fromEntries(
      list(env.OPENAI_VOICE_MAP).map((pair) => {
        const [name = "", voice = ""] = pair.split("=").map((s) => s.trim());
        return [name, /^\d+$/.test(voice) ? Number(voice) : voice];
      }),
    ),
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
  },
  voices: () => voices,
  metrics: (b, n) => withOpsMetrics(createPromMetrics(b, n), ops.registry),
  remoteAddress: (c) => getConnInfo(c).remote.address,
  clientIp: clientIpResolverFromEnv(env),
  log: (line) => console.error(JSON.stringify(line)),
  sha256: nodeSha256Hex,
  docsAssets: nodeDocsAssets(),
  jobs: {
    store: jobStore,
    results: jobResults,
    config: {
      retentionMs: env.JOBS_RETENTION_HOURS * 3_600_000,
      allowHttpCallbacks: env.JOBS_ALLOW_HTTP_CALLBACKS === "true",
      capacity: {
        headroomSlots: env.JOBS_HEADROOM_SLOTS,
        maxPerNode: env.JOBS_BATCH_SLOTS_PER_NODE,
        staleAfterMs: 15_000,
      },
    },
    scheduler: timerScheduler,
    refreshHealth: () => health.checkAll(),
    fetch: (url, init) => fetch(url, init),
  },
});
for (const n of storedNodes) if (n.state === "draining") nodes.setDraining(n.id, true);
// Billing over the app's stores, so its writes (suspensions, Stripe ids) go through the stores requests read.
deps.billing = createBillingService(billingEnv, {
  customers: deps.stores.customers,
  plans: deps.stores.plans,
  billing: database.billing,
  clock: { now: Date.now },
  log: (line) => console.error(JSON.stringify({ component: "billing", ...line })),
});

const health = new HealthChecker({
  table: nodes,
  breakers,
  fetch: (url, init) => fetch(url, init),
  scheduler: timerScheduler,
  now: Date.now,
});
health.start();
// Billing's scheduled run: suspend past the grace period, enterprise subscriptions, the previous month's invoices.
const billing = deps.billing;
if (billing && billingEnv.BILLING_SCHEDULE_MINUTES > 0) {
  const runBilling = () =>
    billing
      .runScheduled()
      .then((run) => ops.billingRun({ run }))
      .catch((e: unknown) => {
        ops.billingRun({ error: e });
        console.error(JSON.stringify({ component: "billing", level: "error", error: String(e) }));
      });
  setInterval(runBilling, billingEnv.BILLING_SCHEDULE_MINUTES * 60_000).unref();
  setTimeout(runBilling, 10_000).unref();
}
console.log(
  `billing: Stripe ${billing?.stripeConfigured ? "configured" : "not configured (set STRIPE_SECRET_KEY)"}; webhooks ${billingEnv.STRIPE_WEBHOOK_SECRET ? "on" : "off (set STRIPE_WEBHOOK_SECRET)"}`,
);
jobWorker?.start();
async function refreshVoices(): Promise<void> {
  if (env.UPSTREAM_API !== "gpu-node") return;
  for (const n of nodes.list()) {
    const info = await fetch(`${n.url}/info`, { signal: AbortSignal.timeout(2000) })
      .then((r) => (r.ok ? (r.json() as Promise<{ voices?: VoiceInfo[] }>) : null))
      .catch(() => null);
    if (info?.voices?.length) {
      voices = info.voices;
      return;
    }
  }
}
// Until a node has answered with its voices (a proxy started before its nodes), ask every second, not every 30 s:
// otherwise every request in that window is refused UNKNOWN_VOICE (the edge's health object retries the same way).
async function keepVoicesFresh(): Promise<void> {
  await refreshVoices();
  setTimeout(keepVoicesFresh, voices.length === 0 ? 1_000 : 30_000).unref();
}
await keepVoicesFresh();
// The admin reports' rollups (usage by day, the price preview) folded every few seconds, so a report folds little.
const rollUp = () =>
  void stores.reports.catchUp().catch((e: unknown) => {
    console.error(JSON.stringify({ component: "usage-rollups", level: "error", error: String(e) }));
  });
setInterval(rollUp, 5_000).unref();

const demo = await ensureDemoCustomer(stores, "cus_demo", "basic");
const demoBatch = await ensureDemoCustomer(stores, "cus_demo_batch", "batch");
if (demo) writeFileSync(join(env.DATA_DIR, "demo-key.txt"), `${demo.key}\n`, { mode: 0o600 });
if (demoBatch) writeFileSync(join(env.DATA_DIR, "demo-batch-key.txt"), `${demoBatch.key}\n`, { mode: 0o600 });

// SIGTERM drains: no new requests, the ones in flight finished (and their usage flushed) before the process exits.
const gate = drainable(app.fetch);
const server = serve({ fetch: gate.fetch, port: env.PORT, hostname: env.HOST }, (info) => {
  const url = `http://${env.HOST}:${info.port}`;
  console.log(
    `proxy listening on ${url} (nodes: ${nodes
      .list()
      .map((n) => n.url)
      .join(", ")}; data: ${env.DATA_DIR})`,
  );
  if (demo) {
    console.log(
      `demo customer created; its API key (shown once, also in ${join(env.DATA_DIR, "demo-key.txt")}):\n  ${demo.key}`,
    );
  }
  console.log(
    `try: curl -s -X POST ${url}/v1/tts -H "Authorization: Bearer $(cat ${join(env.DATA_DIR, "demo-key.txt")})" -H 'content-type: application/json' -d '{"text":"欢迎使用IndexTTS2语音合成服务,支持情感调节和多音色选择。","emotion":"happy","voice":0}' -o out.wav -D -`,
  );
});
// Answers given before the body is read (413, 429) reach the client: the rest of the body is drained, not reset.
drainEarlyAnswers(server as Server);

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  console.log("proxy: draining (no new requests; finishing those in flight)");
  await Promise.all([gate.drain(server as Server, 30_000), jobWorker?.stop(30_000)]);
  health.stop();
  await ledger.close();
  await sharedLimiters?.close();
  await transport.close();
  await database.close();
  process.exit(0);
};
process.once("SIGTERM", shutdown);
process.once("SIGINT", shutdown);
