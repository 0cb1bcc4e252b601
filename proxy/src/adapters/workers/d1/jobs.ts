/**
 * The batch queue on D1: the same rows and transitions as the SQLite store (`../../sqlite/jobs.ts`), each one
 * statement or one `batch` (D1 runs a batch as one transaction). Where SQLite reads and writes inside an IMMEDIATE
 * transaction, this store writes with the read's conditions in the WHERE clause (lease token, state), so a worker
 * whose lease was taken over changes nothing, exactly as there.
 */
import { and, eq, getTableColumns, inArray, sql } from "drizzle-orm";
import { jobItems, jobs } from "../../../../../migrations/schema/index.ts";
import { changes, type D1Db } from "../../../../../storage/d1/db.ts";
import type { Job, JobItem, NewJob } from "../../../jobs/model.ts";
import type {
  ClaimedItem,
  ClaimOptions,
  FinishOutcome,
  ItemError,
  ItemResult,
  JobWithCounts,
  RetryOutcome,
} from "../../../jobs/ports.ts";
import { buildJobRows, doneItem, exhaustedError, failedItem, type JobStoreOptions } from "../../../jobs/rows.ts";
import { ACTIVE, SqlJobStore } from "../../sql/jobs.ts";
import { claimFair, nextCustomer } from "./job-claims.ts";

/** Items per INSERT … SELECT over json_each: one bound JSON text, well under D1's 2 MB per value. */
const INSERT_CHUNK = 500;
const ITEM_COLUMNS = Object.entries(getTableColumns(jobItems));
const q = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;
const INSERT_ITEMS = `insert into ${q("job_items")} (${ITEM_COLUMNS.map(([, c]) => q(c.name)).join(", ")})
  select ${ITEM_COLUMNS.map(([f]) => `json_extract(value, '$.${f}')`).join(", ")} from json_each(?1)`;

const leased = (jobId: string, n: number, token: string) =>
  and(eq(jobItems.jobId, jobId), eq(jobItems.n, n), eq(jobItems.leaseToken, token));

/** An item as its columns hold it (JSON text for the vector), for the json_each insert. */
function driverRow(item: JobItem): Record<string, unknown> {
  return { ...item, emotionVector: item.emotionVector === null ? null : JSON.stringify(item.emotionVector) };
}

export class D1JobStore extends SqlJobStore {
  constructor(
    protected override readonly db: D1Db,
    options: JobStoreOptions = {},
  ) {
    super(db, options);
  }

  /** What a new job's `enqueue_state` is: null here; pending where a Queue must take its items' messages. */
  protected readonly initialEnqueueState: Job["enqueueState"] = null;

  async create(input: NewJob): Promise<Job> {
    const built = buildJobRows(input, this.now());
    const job = { ...built.job, enqueueState: this.initialEnqueueState };
    const items = built.items;
    const d1 = this.db.$client;
    const insertJob = this.db.insert(jobs).values(job);
    const chunks: D1PreparedStatement[] = [];
    for (let i = 0; i < items.length; i += INSERT_CHUNK) {
      chunks.push(d1.prepare(INSERT_ITEMS).bind(JSON.stringify(items.slice(i, i + INSERT_CHUNK).map(driverRow))));
    }
    // One transaction: the job with every item, or nothing.
    const { sql: jobSql, params } = insertJob.toSQL();
    await d1.batch([d1.prepare(jobSql).bind(...params), ...chunks]);
    return job;
  }

  nextCustomer(options: Pick<ClaimOptions, "pools" | "holdOffPeakForPlans">): Promise<string | null> {
    return nextCustomer(this.db, this.now(), options);
  }

  /** Fair across customers, in one batch (./job-claims.ts). */
  claim(options: ClaimOptions): Promise<ClaimedItem[]> {
    return claimFair(this.db, this.now(), options);
  }

  /** Finishes the job once nothing of it is left to run; a no-op otherwise, so it can follow any transition. */
  #settle(jobId: string) {
    const now = this.now();
    return this.db
      .update(jobs)
      .set({
        finishedAt: now,
        expiresAt: now + this.retentionMs,
        callbackState: sql`case when ${jobs.callbackUrl} is not null then 'pending' end`,
        callbackNextAt: sql`case when ${jobs.callbackUrl} is not null then ${now} end`,
      })
      .where(
        and(
          eq(jobs.id, jobId),
          sql`${jobs.finishedAt} is null`,
          sql`not exists (select 1 from ${jobItems} where ${jobItems.jobId} = ${jobId} and ${ACTIVE})`,
        ),
      );
  }

  /** An item update and the job's settle in one transaction; true when the update changed the item. */
  async #transition(jobId: string, update: { run(): Promise<D1Result> } & Parameters<D1Db["batch"]>[0][number]) {
    const [result] = await this.db.batch([update, this.#settle(jobId)]);
    return changes(result as D1Result) === 1;
  }

  async beginFinish(jobId: string, n: number, leaseToken: string): Promise<FinishOutcome> {
    const started = await this.db
      .update(jobItems)
      .set({ state: "finishing" })
      .where(and(leased(jobId, n, leaseToken), eq(jobItems.state, "running")))
      .run();
    if (changes(started) === 1) return "ok";
    const item = await this.db
      .select({ state: jobItems.state })
      .from(jobItems)
      .where(leased(jobId, n, leaseToken))
      .get();
    if (item?.state === "finishing") return "ok";
    if (item?.state === "cancelled") return "cancelled";
    return "lost";
  }

  async complete(jobId: string, n: number, leaseToken: string, result: ItemResult): Promise<boolean> {
    return this.#transition(
      jobId,
      this.db
        .update(jobItems)
        .set(doneItem(result, this.now()))
        .where(and(leased(jobId, n, leaseToken), eq(jobItems.state, "finishing"))),
    );
  }

  async retry(jobId: string, n: number, leaseToken: string, error: ItemError, retryAt: number): Promise<RetryOutcome> {
    const item = await this.db
      .select({ state: jobItems.state, attempts: jobItems.attempts, maxAttempts: jobItems.maxAttempts })
      .from(jobItems)
      .where(leased(jobId, n, leaseToken))
      .get();
    if (!item || (item.state !== "running" && item.state !== "finishing")) return "lost";
    const last = { leaseToken: null, errorCode: error.code, errorMessage: error.message, availableAt: retryAt };
    // A finishing item is committed to being charged: retried until it is, whatever the attempts.
    if (item.state === "finishing") {
      const kept = await this.db
        .update(jobItems)
        .set(last)
        .where(and(leased(jobId, n, leaseToken), eq(jobItems.state, "finishing")))
        .run();
      return changes(kept) === 1 ? "retrying" : "lost";
    }
    if (item.attempts >= item.maxAttempts) {
      const dead = exhaustedError(item.attempts, error);
      return (await this.#failItem(jobId, n, leaseToken, dead)) ? "dead" : "lost";
    }
    const queued = await this.db
      .update(jobItems)
      .set({ ...last, state: "queued" })
      .where(and(leased(jobId, n, leaseToken), eq(jobItems.state, "running")))
      .run();
    return changes(queued) === 1 ? "retrying" : "lost";
  }

  #failItem(jobId: string, n: number, leaseToken: string, error: ItemError): Promise<boolean> {
    return this.#transition(
      jobId,
      this.db
        .update(jobItems)
        .set(failedItem(error, this.now()))
        .where(and(leased(jobId, n, leaseToken), eq(jobItems.state, "running"))),
    );
  }

  fail(jobId: string, n: number, leaseToken: string, error: ItemError): Promise<boolean> {
    return this.#failItem(jobId, n, leaseToken, error);
  }

  giveUp(jobId: string, n: number, error: ItemError): Promise<boolean> {
    return this.#transition(
      jobId,
      this.db
        .update(jobItems)
        .set(failedItem(error, this.now()))
        .where(and(eq(jobItems.jobId, jobId), eq(jobItems.n, n), inArray(jobItems.state, ["queued", "running"]))),
    );
  }

  async release(jobId: string, n: number, leaseToken: string, availableAt: number): Promise<boolean> {
    const released = await this.db
      .update(jobItems)
      .set({
        attempts: sql`case when ${jobItems.state} = 'running' then max(0, ${jobItems.attempts} - 1) else ${jobItems.attempts} end`,
        state: sql`case when ${jobItems.state} = 'running' then 'queued' else ${jobItems.state} end`,
        leaseToken: null,
        availableAt,
      })
      .where(and(leased(jobId, n, leaseToken), inArray(jobItems.state, ["running", "finishing"])))
      .run();
    return changes(released) === 1;
  }

  async cancel(jobId: string): Promise<JobWithCounts | null> {
    const now = this.now();
    await this.db.batch([
      this.db
        .update(jobs)
        .set({ cancelledAt: now })
        .where(and(eq(jobs.id, jobId), sql`${jobs.finishedAt} is null`, sql`${jobs.cancelledAt} is null`)),
      // Only when the statement above cancelled the job (same transaction). A running item keeps its lease: its
      // worker learns of the cancel at beginFinish.
      this.db
        .update(jobItems)
        .set({
          state: "cancelled",
          completedAt: now,
          leaseToken: sql`case when ${jobItems.state} = 'running' then ${jobItems.leaseToken} end`,
        })
        .where(
          and(
            eq(jobItems.jobId, jobId),
            inArray(jobItems.state, ["queued", "running"]),
            sql`exists (select 1 from ${jobs} where ${jobs.id} = ${jobId} and ${jobs.cancelledAt} = ${now})`,
          ),
        ),
      this.#settle(jobId),
    ]);
    return this.get(jobId);
  }

  async delete(jobId: string): Promise<boolean> {
    const [, deleted] = await this.db.batch([
      this.db.delete(jobItems).where(eq(jobItems.jobId, jobId)),
      this.db.delete(jobs).where(eq(jobs.id, jobId)),
    ]);
    return changes(deleted) === 1;
  }
}
