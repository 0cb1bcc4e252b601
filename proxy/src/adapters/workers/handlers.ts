import type { JobWorker } from "../../jobs/worker.ts";
import { createEdgeBilling } from "./billing.ts";
import { createD1Stores, openD1 } from "./d1/index.ts";
import { D1JobStore } from "./d1/jobs.ts";
import {
  consumeJobDeadLetters,
  consumeUsageDeadLetters,
  D1DeadLetterStore,
  replayUsageDeadLetters,
} from "./dead-letters.ts";
import { type BadEnvironmentError, log, nodeHealthStub, parseWorkerConfig, type WorkerBindings } from "./env.ts";
import { QueuedD1JobStore, UNQUEUED_GIVE_UP_MS, UNQUEUED_GRACE_MS } from "./jobs-queue.ts";
import { consumeUsageBatch } from "./usage-queue.ts";

/** A deployment whose configuration is broken answers so, with a stable code, instead of half-working. */
export function badEnvironment(error: BadEnvironmentError): Response {
  return Response.json({ error: { code: error.code, message: error.message, request_id: "none" } }, { status: 500 });
}

/** The usage Queue's consumer: rows into D1, deduplicated by request id, retried, dead-lettered. */
export async function handleUsageBatch(batch: MessageBatch<unknown>, env: WorkerBindings): Promise<void> {
  const summary = await consumeUsageBatch(batch, {
    ledger: createD1Stores(openD1(env.DB)).ledger,
    ...(env.USAGE_DLQ ? { deadLetter: env.USAGE_DLQ } : {}),
    log,
  });
  if (summary.retried > 0 || summary.deadLettered > 0) log({ level: "warn", msg: "usage batch", ...summary });
}

/** The usage dead-letter queue's consumer: every message recorded in `queue_dead_letters` (replayed by the cron). */
export async function handleUsageDeadLetters(batch: MessageBatch<unknown>, env: WorkerBindings): Promise<void> {
  await consumeUsageDeadLetters(batch, { store: new D1DeadLetterStore(openD1(env.DB)), log });
}

/** The jobs dead-letter queue's consumer: recorded, and an unfinished item queued again. */
export async function handleJobDeadLetters(batch: MessageBatch<unknown>, env: WorkerBindings): Promise<void> {
  const db = openD1(env.DB);
  await consumeJobDeadLetters(batch, {
    store: new D1DeadLetterStore(db),
    jobs: new D1JobStore(db),
    queue: env.JOBS_QUEUE,
    maxRequeues: parseWorkerConfig(env).JOBS_DLQ_MAX_REQUEUES,
    log,
  });
}

/**
 * The cron trigger: a health round on every node, expired idempotency keys purged, usage dead letters replayed into
 * the ledger, edge jobs whose items never reached the Queue enqueued again or failed (`sweepUnqueued`), the batch jobs' callbacks and retention purge (given the isolate's feeder), and billing's scheduled run
 * (suspensions past the grace period, enterprise subscriptions, the previous month's invoices once it closed).
 */
export async function handleScheduled(env: WorkerBindings, jobs?: JobWorker): Promise<void> {
  const db = openD1(env.DB);
  const stores = createD1Stores(db);
  const { results } = await nodeHealthStub(env).checkNow();
  const purged = await stores.idempotency.purgeExpired();
  // Each step on its own: one that fails (say, a migration not applied yet) is logged and the others still run.
  const deadUsage = await step("usage dead letters", { replayed: 0, failed: 0, stuck: 0 }, () =>
    replayUsageDeadLetters({ store: new D1DeadLetterStore(db), ledger: stores.ledger, log }),
  );
  const unqueued = await step("unqueued jobs", { requeued: 0, failed: 0, waiting: 0 }, () =>
    new QueuedD1JobStore(db, env.JOBS_QUEUE, {
      retentionMs: parseWorkerConfig(env).JOBS_RETENTION_HOURS * 3_600_000,
      log,
    }).sweepUnqueued({ graceMs: UNQUEUED_GRACE_MS, giveUpMs: UNQUEUED_GIVE_UP_MS }),
  );
  // the admin reports' rollups, folded here so a report reads only the rows since the last cron
  const rolledUp = await step("usage rollups", 0, async () => stores.reports.catchUp());
  const callbacks = jobs ? await step("job callbacks", 0, () => jobs.deliverCallbacks()) : 0;
  const purgedJobs = jobs ? await step("job retention", 0, () => jobs.purgeExpired()) : 0;
  const down = results.filter((r) => !r.ok).map((r) => r.nodeId);
  log({
    level:
      deadUsage.stuck > 0 || unqueued.failed > 0
        ? "error"
        : down.length > 0 || deadUsage.failed > 0 || unqueued.requeued + unqueued.waiting > 0
          ? "warn"
          : "info",
    msg: "cron",
    nodes: results.length,
    down,
    purged_idempotency: purged,
    usage_rows_rolled_up: rolledUp,
    usage_dead_letters_replayed: deadUsage.replayed,
    usage_dead_letters_failed: deadUsage.failed,
    usage_dead_letters_stuck: deadUsage.stuck,
    unqueued_jobs: unqueued,
    job_callbacks: callbacks,
    purged_jobs: purgedJobs,
  });
  const billing = await createEdgeBilling(env, db, stores).runScheduled();
  log({
    level: "info",
    msg: "cron billing",
    suspended: billing.suspended,
    subscriptions: billing.subscriptions.length,
    periods: billing.reports.map((r) => ({ period: r.period, ok: r.ok, customers: r.customers.length })),
  });
}

async function step<T>(what: string, fallback: T, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    log({ level: "error", msg: `cron: ${what} failed`, error: String(error) });
    return fallback;
  }
}
