import type { Context } from "hono";
import type { BillingService } from "../../../billing/src/service.ts";
import type { ConcurrencyLimiter, RateLimiter, RateLimitPolicy } from "../core/rate-limit/port.ts";
import type { LoadBalancer, NodeTable } from "../core/routing/balancer.ts";
import type { CircuitBreakers } from "../core/routing/breaker.ts";
import type { JobMetricsSink, JobStateCounts } from "../jobs/metrics.ts";
import type { JobsService } from "../jobs/service.ts";
import type { KeyContext, Stores, UsageLedger } from "../store/ports.ts";
import type { AudioCodecs } from "../synthesis/audio-port.ts";
import type { UpstreamAdapter } from "../upstream/adapters.ts";
import type { UpstreamTransport } from "../upstream/transport.ts";
import type { RequestUsage } from "./access-log.ts";

/** A voice the proxy offers (from the nodes' /info). */
export interface VoiceInfo {
  id: number;
  name: string;
  description: string;
}

/** What the proxy records about itself; the Node entry wires prom-client, tests may record calls. */
export interface ProxyMetrics {
  request(route: string, status: number, seconds: number): void;
  rateLimited(scope: "ip" | "key" | "in_flight"): void;
  metered(tokens: number, amountMicros: number, currency: string): void;
  /** a job item's outcome, counted where the store accepts it (../jobs/metrics.ts) */
  jobItem?: JobMetricsSink["jobItem"];
  /** the jobs queue's state, read just before each scrape renders */
  jobStates?(counts: JobStateCounts): void;
  render(): Promise<{ contentType: string; body: string }>;
}

export interface ProxyConfig {
  adminToken: string;
  /** a bearer token that may read /metrics (and nothing else); the admin token may too */
  metricsToken?: string | undefined;
  /** per client IP, before authentication */
  ipPolicy: RateLimitPolicy;
  /** 1 s of audio = 50 tokens */
  tokensPerSecond: number;
  maxBodyBytes: number;
  /** the length rule's limit in code points (core/text/length.ts: 4,096) */
  maxTextChars: number;
  /** OpenAI voice name → a deployment voice id or name; unlisted OpenAI names take the voices in turn */
  openAiVoiceMap: Record<string, number | string>;
  /**
   * Longest piece (code points, whole sentences) a text is split into for the nodes (synthesis/pieces.ts): smaller
   * pieces give a stream its first audio sooner, larger ones fewer node requests. Default 300.
   */
  pieceMaxChars: number;
  requestTimeoutMs: number;
  maxResponseBytes: number;
  idempotencyTtlMs: number;
  noCapacityRetryAfterSeconds: number;
  /** console sign-in attempts per client IP (default: 5 at once, then one every 12 s) */
  consoleSignInPolicy?: RateLimitPolicy;
}

export interface ProxyDeps {
  stores: Stores;
  /** the group-committed ledger usage is written through (stores.ledger underneath) */
  ledger: UsageLedger;
  rateLimiter: RateLimiter;
  concurrency: ConcurrencyLimiter;
  nodes: NodeTable;
  breakers: CircuitBreakers;
  balancer: LoadBalancer;
  transport: UpstreamTransport;
  adapter: UpstreamAdapter;
  /** the response formats this runtime encodes (../synthesis/audio-port.ts) */
  audio: AudioCodecs;
  voices: () => VoiceInfo[];
  metrics: ProxyMetrics;
  config: ProxyConfig;
  /** the socket peer's address (Node), undefined on Workers */
  remoteAddress: (c: Context) => string | undefined;
  clientIp: (input: {
    remoteAddress?: string | undefined;
    headers: { get(name: string): string | null };
  }) => string | undefined;
  now?: () => number;
  newRequestId?: () => string;
  /** Stripe invoices, webhooks and the billing portal; absent: those routes answer 501 BILLING_NOT_CONFIGURED. */
  billing?: BillingService | null;
  /**
   * Lowercase hex SHA-256 of an API key or token. Default: Web Crypto (`crypto.subtle`, async, on every runtime); the
   * Node entry passes node:crypto's synchronous hash, which is several times cheaper per request.
   */
  sha256?: (text: string) => string | Promise<string>;
  log?: (line: Record<string, unknown>) => void;
  /** the batch plan's jobs API (absent: no /v1/jobs routes) */
  jobs?: JobsService;
  /** the interactive API reference's files (Swagger UI, ./docs-ui.tsx); absent: /docs is the static page */
  docsAssets?: DocsAssets;
}

export const DOCS_ASSET_NAMES = ["swagger-ui-bundle.js", "swagger-ui.css"] as const;
export type DocsAssetName = (typeof DOCS_ASSET_NAMES)[number];
/** Reads a file of the OpenAPI renderer, served by the app itself at /docs/assets/{name} (never from a CDN). */
export interface DocsAssets {
  get(name: DocsAssetName): Promise<string | null>;
}

export type ProxyEnv = {
  Variables: {
    requestId: string;
    auth: KeyContext;
    startedAt: number;
    /** lowercase names; see ./response-headers.ts */
    responseHeaders: Record<string, string>;
    /** true once a response carries `responseHeaders` */
    responseHeadersApplied: boolean;
    /** what a metered request used, for the access log (./access-log.ts) */
    usage?: RequestUsage;
  };
};
