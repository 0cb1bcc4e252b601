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

import { z } from "zod";
import { ProxyError } from "../../core/errors.ts";
import type { Job, NewJob } from "../../jobs/model.ts";
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

/** Queues delays a message at most 12 hours; a sendBatch holds at most 100 messages. */
const MAX_DELAY_SECONDS = 43_200;
const SEND_BATCH_MAX = 100;

/**
 * The D1 job store whose `create` also queues one message per item: POST /v1/jobs answers 202 only once D1 holds the
 * job and the Queue holds every item's message. If the Queue refuses, the job is deleted again (nothing ran, nothing
 * was charged) and the request fails, so an accepted job can never sit in D1 without messages.
 */
/** @example new QueuedD1JobStore(openD1(env.DB), env.JOBS_QUEUE, { retentionMs }) */
export class QueuedD1JobStore extends D1JobStore {
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
    const messages = Array.from({ length: job.itemCount }, (_, n) => ({
      body: { jobId: job.id, n },
      contentType: "json" as const,
    }));
    try {
      for (let i = 0; i < messages.length; i += SEND_BATCH_MAX) {
        await this.#queue.sendBatch(messages.slice(i, i + SEND_BATCH_MAX));
      }
    } catch (error) {
      await this.delete(job.id).catch((e: unknown) =>
        this.#log?.({ level: "error", msg: "jobs: a job without its messages", job: job.id, error: String(e) }),
      );
      this.#log?.({ level: "error", msg: "jobs: the Queue refused a job's items", job: job.id, error: String(error) });
      // the queue's failure, not the client's: a clear 503 it may retry (with the same Idempotency-Key), not a 500
      throw new ProxyError(
        "JOBS_QUEUE_UNAVAILABLE",
        "the job queue is unavailable; nothing was accepted, retry later",
        {
          retryAfterSeconds: 5,
        },
      );
    }
    return job;
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
