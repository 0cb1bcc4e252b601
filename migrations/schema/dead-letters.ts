import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { epochMs, oneOf } from "./util.ts";

export const DEAD_LETTER_KINDS = ["usage", "job"] as const;
export type DeadLetterKind = (typeof DEAD_LETTER_KINDS)[number];

/**
 * replayed: a usage event written into the ledger; requeued: a job item queued again; given_up: a job item failed for
 * good after `JOBS_DLQ_MAX_REQUEUES` requeues (ATTEMPTS_EXHAUSTED, never charged); discarded: nothing left to do.
 */
export const DEAD_LETTER_RESOLUTIONS = ["replayed", "requeued", "given_up", "discarded"] as const;
export type DeadLetterResolution = (typeof DEAD_LETTER_RESOLUTIONS)[number];

/**
 * Queue messages that ran out of retries (the edge's dead-letter queues), kept so that nothing is silently lost: a
 * usage event that never reached the ledger is money, a job message is an item that stopped being delivered. One row
 * per message (`message_id` is the Queues id, so a redelivered dead letter is recorded once). `resolved_at` is set
 * when it was dealt with: a usage event replayed into the ledger, a job item requeued, or discarded by an operator.
 * No foreign keys: a dead letter may name a customer or job that is gone, and must be kept all the same.
 */
export const queueDeadLetters = sqliteTable(
  "queue_dead_letters",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    /** the dead-letter queue it was read from */
    queue: text("queue").notNull(),
    messageId: text("message_id").notNull(),
    kind: text("kind", { enum: DEAD_LETTER_KINDS }).notNull(),
    /** usage: the event's request id; job: `<job id>.<n>` (also the item's usage request id) */
    requestId: text("request_id"),
    customerId: text("customer_id"),
    /** usage: what the event charges, in micro-units of `currency` (an operator sums what is at stake) */
    amountMicros: integer("amount_micros"),
    currency: text("currency"),
    /** the message body as JSON */
    body: text("body").notNull(),
    /** why it could not be processed, when the sender said (a malformed event), else null */
    problem: text("problem"),
    /** its delivery attempt from the dead-letter queue when recorded (Queues does not pass on the original count) */
    attempts: integer("attempts").notNull(),
    receivedAt: epochMs("received_at").notNull(),
    resolvedAt: epochMs("resolved_at"),
    resolution: text("resolution", { enum: DEAD_LETTER_RESOLUTIONS }),
    /** usage: replays into the ledger that failed so far (the cron backs off between them; the record stays open) */
    replayAttempts: integer("replay_attempts").notNull().default(0),
    /** usage: not replayed again before this time (null: at the next cron) */
    nextReplayAt: epochMs("next_replay_at"),
    /** usage: why the last replay failed */
    lastError: text("last_error"),
  },
  (t) => [
    uniqueIndex("queue_dead_letters_message_idx").on(t.queue, t.messageId),
    index("queue_dead_letters_open_idx").on(t.kind, t.resolvedAt),
    // How often a job item was dead-lettered and requeued before (bounded by JOBS_DLQ_MAX_REQUEUES).
    index("queue_dead_letters_request_idx").on(t.kind, t.requestId),
    oneOf("queue_dead_letters_kind_check", t.kind, DEAD_LETTER_KINDS),
    oneOf("queue_dead_letters_resolution_check", t.resolution, DEAD_LETTER_RESOLUTIONS),
  ],
);
