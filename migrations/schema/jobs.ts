import { sql } from "drizzle-orm";
import { check, index, integer, primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { apiKeys } from "./api-keys.ts";
import { customers } from "./customers.ts";
import { plans } from "./plans.ts";
import { createdAt, epochMs, flag, micros, nonNegativeInteger, oneOf, textId } from "./util.ts";

export const JOB_ITEM_STATES = ["queued", "running", "finishing", "done", "failed", "cancelled"] as const;
/**
 * - queued: waiting for a node (possibly until `available_at`: a retry's backoff, or off-peak);
 * - running: leased to a worker until `available_at` (then claimable again: at-least-once delivery);
 * - finishing: its audio is stored and the worker is committed to charging it; a cancel no longer stops it, and a
 *   worker that dies here leaves it for the next one, which meters it under the same request id (charged once);
 * - done: metered and stored. failed: gave up (a refused request, or `max_attempts` spent). cancelled: never charged.
 */
export type JobItemState = (typeof JOB_ITEM_STATES)[number];

export const CALLBACK_STATES = ["pending", "delivered", "failed"] as const;

/**
 * Edge jobs only (one Queue message per item; null on Node, which polls): pending until the Queue accepted every
 * item's message (then sent); refused when the Queue refused them and the job could not be deleted again. The cron
 * sweeps pending and refused jobs past a grace period (proxy/src/adapters/workers/jobs-queue.ts): a pending one is
 * enqueued again, a refused one (its POST answered 503) is failed with JOBS_QUEUE_UNAVAILABLE (given_up).
 */
export const ENQUEUE_STATES = ["pending", "sent", "refused", "given_up"] as const;
export type EnqueueState = (typeof ENQUEUE_STATES)[number];
export type CallbackState = (typeof CALLBACK_STATES)[number];

/**
 * Batch jobs (the batch plan's durable async queue). A job is a list of items; its state is derived from the items'.
 * Rows and stored audio are deleted at `expires_at` (retention), or when the customer deletes a finished job.
 */
export const jobs = sqliteTable(
  "jobs",
  {
    id: textId(),
    customerId: text("customer_id")
      .notNull()
      .references(() => customers.id),
    apiKeyId: text("api_key_id")
      .notNull()
      .references(() => apiKeys.id),
    /** The plan the job was accepted (and is charged) under. */
    planId: text("plan_id")
      .notNull()
      .references(() => plans.id),
    /** The routing pool of the customer when the job was accepted. */
    pool: text("pool").notNull(),
    /** Items wait outside the plan's peak windows. */
    preferOffPeak: flag("prefer_off_peak").notNull(),
    itemCount: integer("item_count").notNull(),
    /** The customer's own labels for the job (a small JSON object of strings), echoed back. */
    metadata: text("metadata", { mode: "json" }).$type<Record<string, string>>(),
    callbackUrl: text("callback_url"),
    /** HMAC-SHA256 key of the callback signature, shown to the customer once when the job is created. */
    callbackSecret: text("callback_secret"),
    callbackState: text("callback_state", { enum: CALLBACK_STATES }),
    callbackAttempts: integer("callback_attempts").notNull().default(0),
    callbackNextAt: epochMs("callback_next_at"),
    callbackLastError: text("callback_last_error"),
    createdAt: createdAt(),
    cancelledAt: epochMs("cancelled_at"),
    /** When the last item reached a final state. */
    finishedAt: epochMs("finished_at"),
    /** finished_at + retention: rows and audio are deleted then. */
    expiresAt: epochMs("expires_at"),
    /**
     * When the claim last served the job's customer, as a claim sequence number (0: never): customers are served
     * least recently served first, so one customer's huge job cannot starve the others (proxy/src/jobs/fair.ts).
     */
    servedSeq: integer("served_seq").notNull().default(0),
    /**
     * Whether the edge's Queue holds the items' messages (ENQUEUE_STATES); null on Node. No CHECK: adding one to
     * `jobs` would rebuild the table, and dropping it on D1 (foreign keys always on) would cascade to the items.
     */
    enqueueState: text("enqueue_state", { enum: ENQUEUE_STATES }),
  },
  (t) => [
    index("jobs_customer_idx").on(t.customerId, t.id),
    // The fair claim's customers: those with unfinished jobs, with their last service.
    index("jobs_unfinished_idx").on(t.customerId, t.servedSeq).where(sql`${t.finishedAt} is null`),
    index("jobs_expires_idx").on(t.expiresAt),
    index("jobs_callback_idx").on(t.callbackState, t.callbackNextAt),
    // The cron's sweep of edge jobs whose items never reached the Queue (few: normally none).
    index("jobs_unqueued_idx").on(t.createdAt).where(sql`${t.enqueueState} in ('pending', 'refused')`),
    oneOf("jobs_callback_state_check", t.callbackState, CALLBACK_STATES),
    check("jobs_item_count_check", sql`${t.itemCount} > 0`),
  ],
);

/** One synthesis of a job. Its usage row's request id is `<job id>.<n>`, so re-running an item never charges twice. */
export const jobItems = sqliteTable(
  "job_items",
  {
    jobId: text("job_id")
      .notNull()
      .references(() => jobs.id, { onDelete: "cascade" }),
    /** 0-based position in the job. */
    n: integer("n").notNull(),
    /** The job's customer (a copy of `jobs.customer_id`): the fair claim walks each customer's items in order. */
    customerId: text("customer_id").notNull().default(""),
    text: text("text").notNull(),
    voice: integer("voice").notNull(),
    emotion: text("emotion"),
    emotionVector: text("emotion_vector", { mode: "json" }).$type<number[]>(),
    emotionAlpha: real("emotion_alpha"),
    speed: real("speed").notNull(),
    /** Fixed when the job is created, so a re-run (after a crash) synthesises the same audio. */
    seed: integer("seed").notNull(),
    state: text("state", { enum: JOB_ITEM_STATES }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    maxAttempts: integer("max_attempts").notNull(),
    /** queued: not before this time; running/finishing: the lease ends then. */
    availableAt: epochMs("available_at").notNull(),
    leaseToken: text("lease_token"),
    errorCode: text("error_code"),
    errorMessage: text("error_message"),
    audioMs: integer("audio_ms"),
    tokens: integer("tokens"),
    amountMicros: micros("amount_micros"),
    /** The stored WAV's PCM data: its length and "rate/channels/bits", so a whole-job WAV's header is known upfront. */
    pcmBytes: integer("pcm_bytes"),
    pcmFormat: text("pcm_format"),
    completedAt: epochMs("completed_at"),
  },
  (t) => [
    primaryKey({ name: "job_items_pk", columns: [t.jobId, t.n] }),
    // The claim walks this in order and stops after `limit` due items: final items are not in it at all.
    index("job_items_due_idx")
      .on(t.availableAt, t.jobId, t.n)
      .where(sql`${t.state} in ('queued', 'running', 'finishing')`),
    // The fair claim: a customer's own due items in order (it reads the first few of each waiting customer).
    index("job_items_customer_due_idx")
      .on(t.customerId, t.availableAt, t.jobId, t.n)
      .where(sql`${t.state} in ('queued', 'running', 'finishing')`),
    // A job's state counts, and "is anything of this job left?" after each item.
    index("job_items_job_state_idx").on(t.jobId, t.state),
    oneOf("job_items_state_check", t.state, JOB_ITEM_STATES),
    nonNegativeInteger("job_items_attempts_check", t.attempts),
    check("job_items_max_attempts_check", sql`${t.maxAttempts} > 0`),
    check(
      "job_items_amount_check",
      sql`${t.amountMicros} is null or (typeof(${t.amountMicros}) = 'integer' and ${t.amountMicros} >= 0)`,
    ),
  ],
);
