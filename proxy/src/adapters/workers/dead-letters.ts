/**
 * The dead-letter queues' consumers: every message that ran out of retries is recorded in D1 (`queue_dead_letters`),
 * so no usage is silently dropped and no job item silently stops.
 *
 * - usage (`indextts-usage-dlq`): the event (or, for a malformed one, what was sent and why it was refused) with its
 *   request id, customer and amount, so an operator sees what is at stake. The cron trigger replays open, well-formed
 *   ones into the ledger (`replayUsageDeadLetters`): once D1 takes them again they are billed, once (the ledger
 *   ignores a request id it holds), and marked `replayed`. One that D1 keeps refusing (its customer is gone, say) is
 *   never dropped, since it is money: it stays open, each failed replay is counted (`replay_attempts`, `last_error`)
 *   and logged at error level with the amount at stake, the next one waits longer (1 min doubling to 6 h, so it
 *   neither spins every minute nor blocks the records behind it), and from the 5th failure on the cron's summary
 *   reports it as stuck (`usage_dead_letters_stuck`, at error level) until an operator resolves it. A malformed one
 *   stays open for an operator.
 * - jobs (`indextts-jobs-dlq`): the item is queued again if it is still unfinished (D1 holds its state, so a run
 *   that was dead-lettered loses nothing) and the record is marked `requeued`; `discarded` when nothing was left to
 *   run. After `maxRequeues` requeues of one item (`JOBS_DLQ_MAX_REQUEUES`, 3) its next dead letter gives it up: the
 *   item is failed for good (`ATTEMPTS_EXHAUSTED` with its last error, never charged: a queued or running item has no
 *   usage row; the job finishes once nothing else of it is left) and the record is marked `given_up`. A finishing
 *   item (its audio stored, committed to being charged) is always requeued.
 * A record is written once per message id, so a redelivered dead letter adds nothing. Queries: README, "Dead letters".
 */
import { and, asc, count, eq, gte, isNull, lte, or, sql } from "drizzle-orm";
import {
  type DeadLetterKind,
  type DeadLetterResolution,
  queueDeadLetters,
} from "../../../../migrations/schema/index.ts";
import { isFinal } from "../../jobs/model.ts";
import type { JobStore } from "../../jobs/ports.ts";
import { deadLetteredError } from "../../jobs/rows.ts";
import { type Clock, systemClock, type UsageEvent, type UsageLedger } from "../../store/ports.ts";
import { usageEventProblem } from "../../store/validation.ts";
import type { D1Db } from "./d1/index.ts";
import { type JobMessage, jobMessageSchema } from "./jobs-queue.ts";
import { retryDelaySeconds } from "./usage-queue.ts";

/** A record as the consumers make it; the store stamps the times (resolved at once when it has a resolution). */
type NewDeadLetter = Omit<typeof queueDeadLetters.$inferInsert, "receivedAt" | "resolvedAt" | "id">;
type Log = (line: Record<string, unknown>) => void;

/** A requeued item waits this long first: what dead-lettered it (D1 failing, say) gets a moment to pass. */
const REQUEUE_DELAY_SECONDS = 60;
/** Requeues of one job item before its next dead letter gives it up (JOBS_DLQ_MAX_REQUEUES). */
export const DEFAULT_MAX_REQUEUES = 3;
/** A usage dead letter whose replay failed this often is reported as stuck. */
export const STUCK_REPLAYS = 5;
const REPLAY_BACKOFF_MS = { first: 60_000, max: 6 * 3_600_000 };

/** When a usage dead letter whose replay failed `attempts` times is tried again: 1 min, 2, 4 … at most 6 h later. */
export const nextReplayAt = (now: number, attempts: number): number =>
  now + Math.min(REPLAY_BACKOFF_MS.max, REPLAY_BACKOFF_MS.first * 2 ** Math.min(Math.max(0, attempts - 1), 20));

export class D1DeadLetterStore {
  constructor(
    private readonly db: D1Db,
    private readonly clock: Clock = systemClock,
  ) {}

  /** All rows in one transaction; a message recorded before is left as it is. */
  async record(rows: readonly NewDeadLetter[]): Promise<void> {
    if (rows.length === 0) return;
    const receivedAt = this.clock.now();
    // One statement per row: D1 binds at most 100 parameters per statement.
    const [first, ...rest] = rows.map((row) =>
      this.db
        .insert(queueDeadLetters)
        .values({ ...row, receivedAt, resolvedAt: row.resolution ? receivedAt : null })
        .onConflictDoNothing({ target: [queueDeadLetters.queue, queueDeadLetters.messageId] }),
    );
    if (first) await this.db.batch([first, ...rest]);
  }

  /** Open (unresolved) records of a kind, oldest first. */
  open(kind: DeadLetterKind, limit = 100) {
    return this.db
      .select()
      .from(queueDeadLetters)
      .where(and(eq(queueDeadLetters.kind, kind), isNull(queueDeadLetters.resolvedAt)))
      .orderBy(asc(queueDeadLetters.id))
      .limit(limit)
      .all();
  }

  /** Open, well-formed usage records due for a replay, the longest waiting first. */
  dueReplays(limit = 100) {
    const t = queueDeadLetters;
    return this.db
      .select()
      .from(t)
      .where(
        and(
          eq(t.kind, "usage"),
          isNull(t.resolvedAt),
          isNull(t.problem),
          or(isNull(t.nextReplayAt), lte(t.nextReplayAt, this.clock.now())),
        ),
      )
      .orderBy(sql`coalesce(${t.nextReplayAt}, 0)`, asc(t.id))
      .limit(limit)
      .all();
  }

  /** A replay that failed: counted, its error kept, the next one not before `nextAt`. */
  async replayFailed(id: number, error: string, nextAt: number): Promise<void> {
    await this.db
      .update(queueDeadLetters)
      .set({
        replayAttempts: sql`${queueDeadLetters.replayAttempts} + 1`,
        lastError: error.slice(0, 1_000),
        nextReplayAt: nextAt,
      })
      .where(and(eq(queueDeadLetters.id, id), isNull(queueDeadLetters.resolvedAt)))
      .run();
  }

  /** Open usage records whose replay failed at least `STUCK_REPLAYS` times. */
  async stuckUsage(): Promise<number> {
    const t = queueDeadLetters;
    const row = await this.db
      .select({ n: count() })
      .from(t)
      .where(and(eq(t.kind, "usage"), isNull(t.resolvedAt), gte(t.replayAttempts, STUCK_REPLAYS)))
      .get();
    return row?.n ?? 0;
  }

  /** How often the job item `<job id>.<n>` was dead-lettered and queued again. */
  async requeues(requestId: string): Promise<number> {
    const t = queueDeadLetters;
    const row = await this.db
      .select({ n: count() })
      .from(t)
      .where(and(eq(t.kind, "job"), eq(t.requestId, requestId), eq(t.resolution, "requeued")))
      .get();
    return row?.n ?? 0;
  }

  async resolve(id: number, resolution: DeadLetterResolution): Promise<void> {
    await this.db
      .update(queueDeadLetters)
      .set({ resolvedAt: this.clock.now(), resolution })
      .where(and(eq(queueDeadLetters.id, id), isNull(queueDeadLetters.resolvedAt)))
      .run();
  }
}

/** The body a producer sent; the consumers wrap a malformed one as `{ body, problem, queue }`. */
function unwrap(body: unknown): { body: unknown; problem: string | null } {
  if (typeof body === "object" && body !== null && "problem" in body && "queue" in body && "body" in body) {
    const problem = (body as { problem: unknown }).problem;
    return { body: (body as { body: unknown }).body, problem: typeof problem === "string" ? problem : null };
  }
  return { body, problem: null };
}

function json(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "null";
  } catch {
    return JSON.stringify(String(value));
  }
}

const field = (body: unknown, name: string): unknown =>
  typeof body === "object" && body !== null ? (body as Record<string, unknown>)[name] : undefined;
const text = (value: unknown) => (typeof value === "string" ? value.slice(0, 255) : null);
const int = (value: unknown) => (Number.isSafeInteger(value) ? (value as number) : null);

function usageRecord(queue: string, message: Message<unknown>): NewDeadLetter {
  const { body, problem } = unwrap(message.body);
  const valid = typeof body === "object" && body !== null && usageEventProblem(body as UsageEvent) === null;
  return {
    queue,
    messageId: message.id,
    kind: "usage",
    requestId: text(field(body, "requestId")),
    customerId: text(field(body, "customerId")),
    amountMicros: int(field(body, "amountMicros")),
    currency: text(field(body, "currency")),
    body: json(body),
    problem: problem ?? (valid ? null : "not a valid usage event"),
    attempts: message.attempts,
  };
}

/** Retries every message of the batch (storage failed): nothing is acked that is not recorded. */
function retryAll(batch: MessageBatch<unknown>, error: unknown, log?: Log) {
  log?.({ level: "error", msg: "dead letters not recorded", queue: batch.queue, error: String(error) });
  for (const m of batch.messages) m.retry({ delaySeconds: retryDelaySeconds(m.attempts) });
}

/** The usage dead-letter queue's consumer: every message recorded, then acked. */
export async function consumeUsageDeadLetters(
  batch: MessageBatch<unknown>,
  deps: { store: D1DeadLetterStore; log?: Log },
): Promise<number> {
  try {
    await deps.store.record(batch.messages.map((m) => usageRecord(batch.queue, m)));
  } catch (error) {
    retryAll(batch, error, deps.log);
    return 0;
  }
  for (const m of batch.messages) m.ack();
  deps.log?.({ level: "error", msg: "usage dead-lettered", queue: batch.queue, recorded: batch.messages.length });
  return batch.messages.length;
}

/** The jobs dead-letter queue's consumer: an unfinished item is queued again; every message is recorded. */
export async function consumeJobDeadLetters(
  batch: MessageBatch<unknown>,
  deps: {
    store: D1DeadLetterStore;
    jobs: Pick<JobStore, "item" | "giveUp">;
    queue: Queue<JobMessage>;
    /** requeues of one item before its next dead letter gives it up */
    maxRequeues?: number;
    log?: Log;
  },
): Promise<number> {
  const maxRequeues = deps.maxRequeues ?? DEFAULT_MAX_REQUEUES;
  try {
    const rows: NewDeadLetter[] = [];
    for (const message of batch.messages) {
      const { body, problem } = unwrap(message.body);
      const parsed = jobMessageSchema.safeParse(body);
      let resolution: DeadLetterResolution | null = null;
      if (parsed.success) {
        const { jobId, n } = parsed.data;
        const item = await deps.jobs.item(jobId, n);
        if (item && !isFinal(item.state)) {
          const requeued = await deps.store.requeues(`${jobId}.${n}`);
          const last = item.errorCode === null ? null : { code: item.errorCode, message: item.errorMessage ?? "" };
          // A finishing item is committed to being charged: never given up (giveUp leaves it alone).
          if (requeued >= maxRequeues && (await deps.jobs.giveUp(jobId, n, deadLetteredError(requeued + 1, last)))) {
            resolution = "given_up";
            deps.log?.({
              level: "error",
              msg: "jobs: item given up after dead letters",
              item: `${jobId}.${n}`,
              requeued,
            });
          } else {
            await deps.queue.send({ jobId, n }, { contentType: "json", delaySeconds: REQUEUE_DELAY_SECONDS });
            resolution = "requeued";
          }
        } else {
          resolution = "discarded";
        }
      }
      rows.push({
        queue: batch.queue,
        messageId: message.id,
        kind: "job",
        requestId: parsed.success ? `${parsed.data.jobId}.${parsed.data.n}` : null,
        body: json(body),
        problem: problem ?? (parsed.success ? null : "not a job item message"),
        attempts: message.attempts,
        resolution,
      });
    }
    await deps.store.record(rows);
  } catch (error) {
    retryAll(batch, error, deps.log);
    return 0;
  }
  for (const m of batch.messages) m.ack();
  deps.log?.({ level: "warn", msg: "job messages dead-lettered", queue: batch.queue, recorded: batch.messages.length });
  return batch.messages.length;
}

/**
 * Writes open, well-formed usage dead letters that are due into the ledger (the cron trigger, a batch a minute) and
 * marks them replayed. One that D1 still refuses stays open: the failure is counted and logged with what is at stake,
 * and it is tried again later, backing off (`nextReplayAt`). `stuck`: open ones that failed `STUCK_REPLAYS` times.
 */
export async function replayUsageDeadLetters(deps: {
  store: D1DeadLetterStore;
  ledger: Pick<UsageLedger, "append">;
  limit?: number;
  now?: () => number;
  log?: Log;
}): Promise<{ replayed: number; failed: number; stuck: number }> {
  const now = deps.now ?? Date.now;
  let replayed = 0;
  let failed = 0;
  for (const row of await deps.store.dueReplays(deps.limit ?? 100)) {
    try {
      await deps.ledger.append([JSON.parse(row.body) as UsageEvent]);
      await deps.store.resolve(row.id, "replayed");
      replayed++;
    } catch (error) {
      failed++;
      const attempts = row.replayAttempts + 1;
      const nextAt = nextReplayAt(now(), attempts);
      await deps.store.replayFailed(row.id, String(error), nextAt);
      deps.log?.({
        level: "error",
        msg: "usage dead letter not replayed",
        id: row.id,
        request_id: row.requestId,
        customer_id: row.customerId,
        amount_micros: row.amountMicros,
        currency: row.currency,
        replay_attempts: attempts,
        next_replay_at: nextAt,
        error: String(error),
      });
    }
  }
  return { replayed, failed, stuck: await deps.store.stuckUsage() };
}

/** Open dead letters, for logs and tests. */
export async function openDeadLetterCounts(db: D1Db): Promise<Record<DeadLetterKind, number>> {
  const rows = await db
    .select({ kind: queueDeadLetters.kind, n: sql<number>`count(*)`.mapWith(Number) })
    .from(queueDeadLetters)
    .where(isNull(queueDeadLetters.resolvedAt))
    .groupBy(queueDeadLetters.kind)
    .all();
  const counts: Record<DeadLetterKind, number> = { usage: 0, job: 0 };
  for (const r of rows) counts[r.kind] = r.n;
  return counts;
}
