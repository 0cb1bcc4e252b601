/**
 * The batch queue's store, the part written once for every SQL engine: reads (jobs with their item counts, items,
 * active usage, stats, what is due) and the single-statement writes. Creating a job, the fair claim and the item
 * transitions are the hot paths and differ per engine: SQLite runs each in one IMMEDIATE transaction over prepared
 * statements (`../sqlite/jobs.ts`), D1 in one `batch` with the read's conditions in the WHERE clause
 * (`../workers/d1/jobs.ts`); both extend this.
 */
import { and, asc, count, desc, eq, inArray, isNotNull, lt, lte, sql } from "drizzle-orm";
import { changes, first, type SqlDb, tablesOf } from "../../../../storage/sql-db.ts";
import { ACTIVE_ITEM_STATES, type ItemCounts, type Job, type NewJob } from "../../jobs/model.ts";
import type {
  ActiveUsage,
  CallbackDelivery,
  ClaimedItem,
  ClaimOptions,
  FinishOutcome,
  ItemError,
  ItemResult,
  JobStore,
  JobWithCounts,
  RetryOutcome,
} from "../../jobs/ports.ts";
import { callbackChange, countItems, type JobStoreOptions } from "../../jobs/rows.ts";
import { type Clock, systemClock } from "../../store/ports.ts";

/**
 * Written exactly as in the partial index `job_items_due_idx`, so SQLite can use it (a bound list would not match).
 * Raw SQL naming the column as `"job_items"."state"`, which reads the same in every dialect.
 */
export const ACTIVE = sql`${sql.identifier("job_items")}.${sql.identifier("state")} in ('queued', 'running', 'finishing')`;

export abstract class SqlJobStore implements JobStore {
  readonly #clock: Clock;
  protected readonly retentionMs: number;

  constructor(
    protected readonly db: SqlDb,
    options: JobStoreOptions = {},
  ) {
    this.#clock = options.clock ?? systemClock;
    this.retentionMs = options.retentionMs ?? 7 * 24 * 3_600_000;
  }

  protected now(): number {
    return this.#clock.now();
  }

  abstract create(input: NewJob): Promise<Job>;
  abstract nextCustomer(options: Pick<ClaimOptions, "pools" | "holdOffPeakForPlans">): Promise<string | null>;
  abstract claim(options: ClaimOptions): Promise<ClaimedItem[]>;
  abstract beginFinish(jobId: string, n: number, leaseToken: string): Promise<FinishOutcome>;
  abstract complete(jobId: string, n: number, leaseToken: string, result: ItemResult): Promise<boolean>;
  abstract retry(
    jobId: string,
    n: number,
    leaseToken: string,
    error: ItemError,
    retryAt: number,
  ): Promise<RetryOutcome>;
  abstract fail(jobId: string, n: number, leaseToken: string, error: ItemError): Promise<boolean>;
  abstract giveUp(jobId: string, n: number, error: ItemError): Promise<boolean>;
  abstract release(jobId: string, n: number, leaseToken: string, availableAt: number): Promise<boolean>;
  abstract cancel(jobId: string): Promise<JobWithCounts | null>;
  abstract delete(jobId: string): Promise<boolean>;

  protected async withCounts(list: Job[]): Promise<JobWithCounts[]> {
    const { jobItems } = tablesOf(this.db);
    if (list.length === 0) return [];
    const rows = await this.db
      .select({
        jobId: jobItems.jobId,
        state: jobItems.state,
        n: count(),
        audioMs: sql<number>`coalesce(sum(${jobItems.audioMs}), 0)`.mapWith(Number),
        tokens: sql<number>`coalesce(sum(${jobItems.tokens}), 0)`.mapWith(Number),
        amountMicros: sql<number>`coalesce(sum(${jobItems.amountMicros}), 0)`.mapWith(Number),
      })
      .from(jobItems)
      .where(
        inArray(
          jobItems.jobId,
          list.map((j) => j.id),
        ),
      )
      .groupBy(jobItems.jobId, jobItems.state);
    return list.map((job) => {
      const counts = countItems([]);
      const totals = { audioMs: 0, tokens: 0, amountMicros: 0 };
      for (const r of rows) {
        if (r.jobId !== job.id) continue;
        counts[r.state] = r.n;
        if (r.state === "done")
          Object.assign(totals, { audioMs: r.audioMs, tokens: r.tokens, amountMicros: r.amountMicros });
      }
      return { job, counts, totals };
    });
  }

  async get(jobId: string): Promise<JobWithCounts | null> {
    const { jobs } = tablesOf(this.db);
    const job = await this.db.select().from(jobs).where(eq(jobs.id, jobId)).then(first);
    return job ? ((await this.withCounts([job]))[0] ?? null) : null;
  }

  async list(customerId: string, options: { limit?: number; beforeId?: string } = {}): Promise<JobWithCounts[]> {
    const { jobs } = tablesOf(this.db);
    const found = await this.db
      .select()
      .from(jobs)
      .where(
        and(
          eq(jobs.customerId, customerId),
          options.beforeId === undefined ? undefined : lt(jobs.id, options.beforeId),
        ),
      )
      .orderBy(desc(jobs.id))
      .limit(options.limit ?? 100);
    return this.withCounts(found);
  }

  async items(jobId: string, options: { fromN?: number; limit?: number } = {}) {
    const { jobItems } = tablesOf(this.db);
    return this.db
      .select()
      .from(jobItems)
      .where(and(eq(jobItems.jobId, jobId), sql`${jobItems.n} >= ${options.fromN ?? 0}`))
      .orderBy(asc(jobItems.n))
      .limit(options.limit ?? Number.MAX_SAFE_INTEGER);
  }

  async item(jobId: string, n: number) {
    const { jobItems } = tablesOf(this.db);
    return (
      (await this.db
        .select()
        .from(jobItems)
        .where(and(eq(jobItems.jobId, jobId), eq(jobItems.n, n)))
        .then(first)) ?? null
    );
  }

  async activeUsage(customerId: string): Promise<ActiveUsage> {
    const { jobItems, jobs } = tablesOf(this.db);
    const row = await this.db
      .select({ jobs: sql<number>`count(distinct ${jobItems.jobId})`, items: count() })
      .from(jobItems)
      .innerJoin(jobs, eq(jobs.id, jobItems.jobId))
      .where(and(eq(jobs.customerId, customerId), inArray(jobItems.state, [...ACTIVE_ITEM_STATES])))
      .then(first);
    return { jobs: Number(row?.jobs ?? 0), items: Number(row?.items ?? 0) };
  }

  async releaseAllLeases(): Promise<number> {
    const { jobItems } = tablesOf(this.db);
    const released = await this.db
      .update(jobItems)
      .set({ leaseToken: null, availableAt: this.now() })
      .where(inArray(jobItems.state, ["running", "finishing"]));
    return changes(released);
  }

  async dueCallbacks(limit: number): Promise<JobWithCounts[]> {
    const { jobs } = tablesOf(this.db);
    const due = await this.db
      .select()
      .from(jobs)
      .where(and(eq(jobs.callbackState, "pending"), lte(jobs.callbackNextAt, this.now())))
      .orderBy(asc(jobs.callbackNextAt))
      .limit(limit);
    return this.withCounts(due);
  }

  async recordCallback(jobId: string, delivery: CallbackDelivery): Promise<void> {
    const { jobs } = tablesOf(this.db);
    await this.db
      .update(jobs)
      .set({ ...callbackChange(delivery, this.now()), callbackAttempts: sql`${jobs.callbackAttempts} + 1` })
      .where(and(eq(jobs.id, jobId), eq(jobs.callbackState, "pending")));
  }

  async expired(limit: number): Promise<Job[]> {
    const { jobs } = tablesOf(this.db);
    return this.db
      .select()
      .from(jobs)
      .where(and(isNotNull(jobs.expiresAt), lte(jobs.expiresAt, this.now())))
      .orderBy(asc(jobs.expiresAt))
      .limit(limit);
  }

  async stats(): Promise<ItemCounts> {
    const { jobItems } = tablesOf(this.db);
    const counts = countItems([]);
    const rows = await this.db.select({ state: jobItems.state, n: count() }).from(jobItems).groupBy(jobItems.state);
    for (const r of rows) counts[r.state] = r.n;
    return counts;
  }

  async nextDueAt(): Promise<number | null> {
    const { jobItems } = tablesOf(this.db);
    const row = await this.db
      .select({ at: jobItems.availableAt })
      .from(jobItems)
      .where(ACTIVE)
      .orderBy(asc(jobItems.availableAt))
      .limit(1)
      .then(first);
    return row?.at ?? null;
  }
}
