/** The jobs API's settings: quotas per plan, the queue's retry policy, the feeder's capacity rule, retention. */
import type { Plan } from "../store/ports.ts";
import type { CapacityOptions } from "./capacity.ts";

/** What one customer may have queued at a time, and how big one job may be. */
export interface JobQuota {
  maxItemsPerJob: number;
  /** characters over all items of one job */
  maxCharsPerJob: number;
  /** jobs with an item not yet final */
  maxActiveJobs: number;
  /** items not yet final, over all the customer's jobs */
  maxActiveItems: number;
}

export interface JobsConfig {
  /** plan kinds whose keys may use the jobs API; others get 403 BATCH_PLAN_REQUIRED */
  planKinds: readonly Plan["kind"][];
  /** quotas by plan id; plans not listed get `defaultQuota` */
  quotas: Record<string, JobQuota>;
  defaultQuota: JobQuota;
  /** largest POST /v1/jobs body */
  maxBodyBytes: number;
  /** longest segment when one long text is split (also the cap of each listed item: the proxy's maxTextChars) */
  segmentMaxChars: number;
  /** attempts before an item is dead-lettered */
  maxAttempts: number;
  /** retry backoff: base × 2^(attempt − 1), at most max, with jitter down to half */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** how long a claimed item is leased to its worker (longer than a synthesis deadline) */
  leaseMs: number;
  /** how often the feeder looks for capacity and due items */
  pollMs: number;
  /** while work is queued, node reports are refreshed this often (capacity is judged from them) */
  healthRefreshMs: number;
  capacity: CapacityOptions;
  /** callbacks: attempts, per-attempt timeout, and whether plain http:// URLs are accepted (tests, local use) */
  callbackMaxAttempts: number;
  callbackTimeoutMs: number;
  allowHttpCallbacks: boolean;
  /** finished jobs and their audio are deleted this long after they finish */
  retentionMs: number;
  /** how often expired jobs are purged */
  purgeEveryMs: number;
  /** how long "which plans are at peak now" is reused (off-peak jobs wait while their plan is at peak) */
  peakRecheckMs: number;
}

export const defaultJobQuota: JobQuota = {
  maxItemsPerJob: 10_000,
  maxCharsPerJob: 2_000_000,
  maxActiveJobs: 50,
  maxActiveItems: 50_000,
};

export function defaultJobsConfig(requestTimeoutMs = 120_000): JobsConfig {
  return {
    planKinds: ["batch"],
    quotas: {},
    defaultQuota: defaultJobQuota,
    maxBodyBytes: 8 * 1024 * 1024,
    segmentMaxChars: 300,
    maxAttempts: 5,
    backoffBaseMs: 1_000,
    backoffMaxMs: 60_000,
    leaseMs: requestTimeoutMs + 30_000,
    pollMs: 50,
    healthRefreshMs: 500,
    capacity: { headroomSlots: 2, maxPerNode: 4, staleAfterMs: 15_000 },
    callbackMaxAttempts: 8,
    callbackTimeoutMs: 10_000,
    allowHttpCallbacks: false,
    retentionMs: 7 * 24 * 3_600_000,
    purgeEveryMs: 60_000,
    peakRecheckMs: 30_000,
  };
}

export const quotaFor = (config: JobsConfig, planId: string): JobQuota => config.quotas[planId] ?? config.defaultQuota;

/** The wait before attempt `attempt + 1`: exponential with "equal jitter" (between half and all of it). */
export function backoffMs(
  config: Pick<JobsConfig, "backoffBaseMs" | "backoffMaxMs">,
  attempt: number,
  random: () => number,
): number {
  const full = Math.min(config.backoffMaxMs, config.backoffBaseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(full / 2 + (random() * full) / 2);
}
