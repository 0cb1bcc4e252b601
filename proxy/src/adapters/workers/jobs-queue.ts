/**
 * Batch jobs on the edge: a Queue carries one message per item to run, and its consumer runs the item with the Node
 * feeder's own core (`JobWorker.runItem`: the same claim, capacity rule, synthesis at batch priority, metering and
 * store transitions). D1 holds every item's state (leases, attempts, cancel, the finish-then-charge order); a message
 * only says "look at item n of job j now". So delivery may be at least once: a message for an item that is done,
 * failed or cancelled does nothing, and one for an item leased elsewhere comes back when that lease ends.
 *
 * What a message leads to (`nextMessage`):
 * - the item ran and is final, or was final already: acked, no follow-up;
 * - no node has spare batch capacity: a follow-up after 1 s, 2 s, 4 s … at most `JOBS_WAIT_MAX_SECONDS`, then acked.
 *   Waiting spends no delivery attempt (as a node's 503 spends no item attempt on Node), so a long busy spell never
 *   dead-letters anything. An off-peak job's item while its plan is at peak waits `JOBS_OFF_PEAK_WAIT_SECONDS`;
 * - the item is due later (a retry's backoff, a node's backpressure, another worker's lease): a follow-up at that time;
 * - the consumer itself failed (D1 unreachable): `retry()` with backoff; after `max_retries` the message goes to the
 *   jobs dead-letter queue, whose consumer records it and queues the item again (./dead-letters.ts).
 * A follow-up is sent before its message is acked: a crash in between leaves two messages for one item, never none.
 */

import { and, asc, eq, lte, sql } from "drizzle-orm";
import { z } from "zod";
import { type EnqueueState, jobs } from "../../../../migrations/schema/index.ts";
import { ProxyError } from "../../core/errors.ts";
import { isFinal, type Job, type NewJob } from "../../jobs/model.ts";
import type { JobStoreOptions } from "../../jobs/rows.ts";
import type { ItemRun } from "../../jobs/worker.ts";
import type { D1Db } from "./d1/index.ts";
import { D1JobStore } from "./d1/jobs.ts";
import { retryDelaySeconds } from "./usage-queue.ts";

export interface JobMessage {
  jobId: string;
  n: number;
  /** capacity checks this item has already waited through (sets the next wait) */
  waits?: number;
}

export const jobMessageSchema = z.object({
  jobId: z.string().regex(/^job_[A-Za-z0-9]{1,64}$/),
  n: z.number().int().min(0),
  waits: z.number().int().min(0).optional(),
});

/** The cron's sweep of jobs whose items never reached the Queue: older than this (a create still sending is not)… */
export const UNQUEUED_GRACE_MS = 10 * 60_000;
/** …and a pending one the Queue still refuses after this long is failed (JOBS_QUEUE_UNAVAILABLE). */
export const UNQUEUED_GIVE_UP_MS = 24 * 3_600_000;

/** Queues delays a message at most 12 hours; a sendBatch holds at most 100 messages. */
const MAX_DELAY_SECONDS = 43_200;
const SEND_BATCH_MAX = 100;

/**
 * The D1 job store whose `create` also queues one message per item: POST /v1/jobs answers 202 only once D1 holds the
 * job and the Queue holds every item's message. If the Queue refuses, the job is deleted again (nothing ran, nothing
 * was charged) and the request fails. The job's `enqueue_state` says how far that got (pending → sent; refused when
 * even the delete failed), and the cron's `sweepUnqueued` settles every job left pending or refused, so none is stuck
 * in D1 without messages.
 */
/** @example new QueuedD1JobStore(openD1(env.DB), env.JOBS_QUEUE, { retentionMs }) */
export class QueuedD1JobStore extends D1JobStore {
  protected override readonly initialEnqueueState = "pending" as const;
  readonly #queue: Queue<JobMessage>;
  readonly #log: ((line: Record<string, unknown>) => void) | undefined;

  constructor(
    db: D1Db,
    queue: Queue<JobMessage>,
    options: JobStoreOptions & { log?: (line: Record<string, unknown>) => void } = {},
  ) {
    super(db, options);
    this.#queue = queue;
    this.#log = options.log;
  }

  override async create(input: NewJob): Promise<Job> {
    const job = await super.create(input);
    try {
      await this.#send(
        job.id,
        Array.from({ length: job.itemCount }, (_, n) => n),
      );
    } catch (error) {
      this.#log?.({ level: "error", msg: "jobs: the Queue refused a job's items", job: job.id, error: String(error) });
      await this.delete(job.id).catch(async (e: unknown) => {
        // Left in D1: marked refused (if D1 takes even that), so the cron's sweep fails it instead of running it.
        this.#log?.({ level: "error", msg: "jobs: a job without its messages", job: job.id, error: String(e) });
        await this.#mark(job.id, "refused").catch(() => {});
      });
      // the queue's failure, not the client's: a clear 503 it may retry (with the same Idempotency-Key), not a 500
      throw new ProxyError(
        "JOBS_QUEUE_UNAVAILABLE",
        "the job queue is unavailable; nothing was accepted, retry later",
        {
          retryAfterSeconds: 5,
        },
      );
    }
    // The messages are out: if this mark fails the job stays pending, and the sweep only sends them again (harmless).
    await this.#mark(job.id, "sent").catch((e: unknown) =>
      this.#log?.({ level: "warn", msg: "jobs: enqueued job not marked sent", job: job.id, error: String(e) }),
    );
    return { ...job, enqueueState: "sent" };
  }

  async #send(jobId: string, ns: readonly number[]): Promise<void> {
    const messages = ns.map((n) => ({ body: { jobId, n }, contentType: "json" as const }));
    for (let i = 0; i < messages.length; i += SEND_BATCH_MAX) {
      await this.#queue.sendBatch(messages.slice(i, i + SEND_BATCH_MAX));
    }
  }

  async #mark(jobId: string, state: EnqueueState): Promise<void> {
    await this.db.update(jobs).set({ enqueueState: state }).where(eq(jobs.id, jobId)).run();
  }

  /**
   * The cron's sweep of jobs whose items never reached the Queue, older than `graceMs` (a create still sending is
   * younger): a pending one (the Worker died between D1 and the Queue, or could not record that it sent) gets a
   * message for every unfinished item again (a duplicate of one that did go out is harmless) and is marked sent; a
   * refused one, whose POST answered 503 "nothing was accepted", must not run (the client was told to retry, and has
   * likely queued it again): its unfinished items fail with JOBS_QUEUE_UNAVAILABLE, nothing is charged, and the job
   * finishes (given_up). A pending job whose messages the Queue still refuses after `giveUpMs` is failed the same way.
   */
  async sweepUnqueued(options: { graceMs: number; giveUpMs: number; limit?: number }) {
    const now = this.now();
    const found = await this.db
      .select({ id: jobs.id, state: jobs.enqueueState, createdAt: jobs.createdAt })
      .from(jobs)
      .where(and(sql`${jobs.enqueueState} in ('pending', 'refused')`, lte(jobs.createdAt, now - options.graceMs)))
      .orderBy(asc(jobs.createdAt))
      .limit(options.limit ?? 20)
      .all();
    const swept = { requeued: 0, failed: 0, waiting: 0 };
    for (const job of found) {
      const open = (await this.items(job.id)).filter((i) => !isFinal(i.state)).map((i) => i.n);
      if (job.state === "pending") {
        try {
          if (open.length > 0) await this.#send(job.id, open);
          await this.#mark(job.id, "sent");
          swept.requeued++;
          this.#log?.({ level: "warn", msg: "jobs: unqueued job enqueued again", job: job.id, items: open.length });
          continue;
        } catch (error) {
          if (now - job.createdAt < options.giveUpMs) {
            swept.waiting++;
            this.#log?.({ level: "error", msg: "jobs: unqueued job still refused", job: job.id, error: String(error) });
            continue;
          }
        }
      }
      const error = {
        code: "JOBS_QUEUE_UNAVAILABLE",
        message: "the job's items never reached the queue (POST /v1/jobs answered 503): not run, not charged",
      };
      for (const n of open) await this.giveUp(job.id, n, error);
      await this.#mark(job.id, "given_up");
      swept.failed++;
      this.#log?.({ level: "error", msg: "jobs: unqueued job failed", job: job.id, items: open.length });
    }
    return swept;
  }
}

export interface JobConsumerDeps {
  /** `JobWorker.runItem` of this isolate's proxy */
  runItem: (jobId: string, n: number) => Promise<ItemRun>;
  /** the jobs Queue, for follow-ups */
  queue: Queue<JobMessage>;
  /** malformed bodies go here at once (no retry can fix them) */
  deadLetter?: Queue<unknown>;
  waitMaxSeconds: number;
  /** between checks of an off-peak job's item while its plan's peak window is open */
  offPeakWaitSeconds: number;
  now?: () => number;
  log?: (line: Record<string, unknown>) => void;
}

export type JobBatchSummary = Record<ItemRun["kind"] | "retried" | "deadLettered", number>;

const secondsUntil = (at: number, now: number) =>
  Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil((at - now) / 1_000)));

/** The follow-up a message needs after `run`, or null when the item is final. */
export function nextMessage(
  message: JobMessage,
  run: ItemRun,
  now: number,
  policy: { waitMaxSeconds: number; offPeakWaitSeconds: number },
): { body: JobMessage; delaySeconds: number } | null {
  const item = { jobId: message.jobId, n: message.n };
  switch (run.kind) {
    case "gone":
      return null;
    case "busy": {
      if (run.offPeak) return { body: item, delaySeconds: policy.offPeakWaitSeconds };
      const waits = (message.waits ?? 0) + 1;
      return { body: { ...item, waits }, delaySeconds: Math.min(policy.waitMaxSeconds, 2 ** Math.min(waits - 1, 12)) };
    }
    case "later":
      return { body: item, delaySeconds: secondsUntil(run.at, now) };
    case "ran":
      return run.nextAt === null ? null : { body: item, delaySeconds: secondsUntil(run.nextAt, now) };
  }
}

/** The jobs Queue's consumer: every message of the batch at once (the capacity rule limits what actually runs). */
export async function consumeJobBatch(batch: MessageBatch<unknown>, deps: JobConsumerDeps): Promise<JobBatchSummary> {
  const summary: JobBatchSummary = { gone: 0, later: 0, busy: 0, ran: 0, retried: 0, deadLettered: 0 };
  const now = deps.now ?? Date.now;
  await Promise.all(
    batch.messages.map(async (message) => {
      const parsed = jobMessageSchema.safeParse(message.body);
      if (!parsed.success) {
        // Straight to the dead-letter queue (retrying cannot fix it); retried into it if that send fails.
        const sent = await deps.deadLetter
          ?.send({ body: message.body, problem: "not a job item message", queue: batch.queue })
          .then(
            () => true,
            () => false,
          );
        if (sent) {
          message.ack();
          summary.deadLettered++;
        } else {
          message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
          summary.retried++;
        }
        return;
      }
      try {
        const run = await deps.runItem(parsed.data.jobId, parsed.data.n);
        const next = nextMessage(parsed.data, run, now(), deps);
        if (next) await deps.queue.send(next.body, { contentType: "json", delaySeconds: next.delaySeconds });
        message.ack();
        summary[run.kind]++;
      } catch (error) {
        deps.log?.({
          level: "error",
          msg: "jobs: item message failed",
          item: `${parsed.data.jobId}.${parsed.data.n}`,
          error: String(error),
        });
        message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
        summary.retried++;
      }
    }),
  );
  return summary;
}
