/**
 * The Worker's bindings (wrangler.toml) and the configuration read from its vars and secrets, checked with zod once
 * per isolate. A missing or malformed setting fails every request loudly (BAD_ENVIRONMENT) instead of half-working.
 */
import { z } from "zod";
import type { UsageEvent } from "../../store/ports.ts";
import type { JobMessage } from "./jobs-queue.ts";
import type { LimiterObject } from "./limiter-object.ts";
import type { NodeHealthObject } from "./node-health-object.ts";

export interface WorkerBindings {
  DB: D1Database;
  LIMITER: DurableObjectNamespace<LimiterObject>;
  NODE_HEALTH: DurableObjectNamespace<NodeHealthObject>;
  USAGE_QUEUE: Queue<UsageEvent>;
  /** where usage messages that can never be written (malformed) go at once, instead of after every retry */
  USAGE_DLQ?: Queue<unknown>;
  /** batch jobs: one message per item to run (POST /v1/jobs sends them; the consumer runs the items) */
  JOBS_QUEUE: Queue<JobMessage>;
  /** where job messages that can never be run (malformed) go at once */
  JOBS_DLQ?: Queue<unknown>;
  /** finished batch audio (`<job id>/<n>.wav`) */
  JOB_RESULTS: R2Bucket;
  /** the API reference's renderer files (wrangler.toml [assets]); absent: /docs is the static page */
  DOCS_ASSETS?: Fetcher;
  /** secret: `wrangler secret put ADMIN_TOKEN` */
  ADMIN_TOKEN?: string;
  /** secret: `wrangler secret put METRICS_TOKEN`, a bearer token that may read /metrics only */
  METRICS_TOKEN?: string;
  /** comma-separated base URLs of GPU nodes, registered in D1 on first start (more through the admin API) */
  GPU_NODES?: string;
  IP_RATE_PER_SECOND?: string;
  IP_BURST?: string;
  /** time zone of the default plans created on first start */
  PLAN_TIME_ZONE?: string;
  /** how often the node-health object checks every node's /healthz while the proxy has traffic */
  HEALTH_INTERVAL_MS?: string;
  /** how stale an isolate's copy of node health and breaker state may get before it is refreshed */
  ROUTING_TTL_MS?: string;
  /**
   * batch jobs (proxy/src/jobs/README.md): as on Node, plus the longest wait between capacity checks of an item, and
   * between checks of an off-peak job's item while its plan is at peak
   */
  JOBS_RETENTION_HOURS?: string;
  JOBS_BATCH_SLOTS_PER_NODE?: string;
  JOBS_HEADROOM_SLOTS?: string;
  JOBS_ALLOW_HTTP_CALLBACKS?: string;
  JOBS_WAIT_MAX_SECONDS?: string;
  JOBS_OFF_PEAK_WAIT_SECONDS?: string;
  /** requeues of a job item from the jobs dead-letter queue before its next dead letter fails it for good */
  JOBS_DLQ_MAX_REQUEUES?: string;
  /** billing (billing/src/config.ts): secrets STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET, vars BILLING_* */
  STRIPE_SECRET_KEY?: string;
  STRIPE_WEBHOOK_SECRET?: string;
  STRIPE_API_BASE?: string;
  STRIPE_PORTAL_RETURN_URL?: string;
}

const list = (s: string) =>
  s
    .split(",")
    .map((x) => x.trim().replace(/\/+$/, ""))
    .filter(Boolean);

export const workerConfigSchema = z.object({
  ADMIN_TOKEN: z.string().min(16, "set the ADMIN_TOKEN secret (at least 16 characters)"),
  METRICS_TOKEN: z.string().min(16, "METRICS_TOKEN must have at least 16 characters").optional(),
  GPU_NODES: z.string().default("").transform(list),
  IP_RATE_PER_SECOND: z.coerce.number().positive().default(5),
  IP_BURST: z.coerce.number().int().positive().default(10),
  PLAN_TIME_ZONE: z.string().default("UTC"),
  HEALTH_INTERVAL_MS: z.coerce.number().int().min(1_000).default(5_000),
  ROUTING_TTL_MS: z.coerce.number().int().min(0).default(1_000),
  JOBS_RETENTION_HOURS: z.coerce.number().positive().default(168),
  JOBS_BATCH_SLOTS_PER_NODE: z.coerce.number().int().min(0).default(4),
  JOBS_HEADROOM_SLOTS: z.coerce.number().int().min(0).default(2),
  JOBS_ALLOW_HTTP_CALLBACKS: z.enum(["true", "false"]).default("false"),
  JOBS_WAIT_MAX_SECONDS: z.coerce.number().int().min(1).max(3_600).default(30),
  JOBS_OFF_PEAK_WAIT_SECONDS: z.coerce.number().int().min(1).max(43_200).default(300),
  JOBS_DLQ_MAX_REQUEUES: z.coerce.number().int().min(0).max(100).default(3),
});
export type WorkerConfig = z.infer<typeof workerConfigSchema>;

export class BadEnvironmentError extends Error {
  override readonly name = "BadEnvironmentError";
  readonly code = "BAD_ENVIRONMENT";
}

function parse<S extends z.ZodType>(schema: S, env: WorkerBindings): z.output<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) throw new BadEnvironmentError(`bad configuration: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export const parseWorkerConfig = (env: WorkerBindings): WorkerConfig => parse(workerConfigSchema, env);

/** The node-health object needs no secret. */
const nodeHealthConfigSchema = workerConfigSchema.omit({ ADMIN_TOKEN: true });
export type NodeHealthConfig = z.infer<typeof nodeHealthConfigSchema>;
export const parseNodeHealthConfig = (env: WorkerBindings): NodeHealthConfig => parse(nodeHealthConfigSchema, env);

/** Structured logs, one JSON line each, on the console method of their level (Workers Logs keeps the level). */
export function log(line: Record<string, unknown>): void {
  const text = JSON.stringify(line);
  if (line.level === "error") console.error(text);
  else if (line.level === "warn") console.warn(text);
  else console.log(text);
}

/** The queues the Worker consumes (wrangler.toml); `queue()` tells them apart by name. */
export const QUEUE_NAMES = {
  usage: "indextts-usage",
  usageDeadLetters: "indextts-usage-dlq",
  jobs: "indextts-jobs",
  jobDeadLetters: "indextts-jobs-dlq",
} as const;

/** The one node-health object: node health and breaker state are global, like the node list in D1. */
export const nodeHealthStub = (env: WorkerBindings) => env.NODE_HEALTH.get(env.NODE_HEALTH.idFromName("global"));
