/**
 * The batch queue on SQLite: jobs and items in the proxy's database, every transition one short transaction. Safe
 * across restarts: a claimed item is leased (its `available_at` is the lease's end), so items of a process that died
 * are claimed again; the Node entry calls `releaseAllLeases()` on start, being the only worker of its database.
 */
import { and, asc, count, desc, eq, inArray, isNotNull, lt, lte, sql } from "drizzle-orm";
import { jobItems, jobs } from "../../../../migrations/schema/index.ts";
import type { SqliteDb } from "../../../../storage/sqlite/open.ts";
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
import { buildJobRows, callbackChange, countItems, exhaustedError, type JobStoreOptions } from "../../jobs/rows.ts";
import { type Clock, systemClock } from "../../store/ports.ts";
import { ACTIVE, prepareJobStatements, type Statement } from "./job-statements.ts";

const INSERT_CHUNK = 500;

const itemKey = (jobId: string, n: number) => and(eq(jobItems.jobId, jobId), eq(jobItems.n, n));

export class SqliteJobStore implements JobStore {
  readonly #clock: Clock;
  readonly #retentionMs: number;
  readonly #sql: ReturnType<typeof prepareJobStatements>;

  constructor(
    private readonly db: SqliteDb,
    options: JobStoreOptions = {},
  ) {
    this.#clock = options.clock ?? systemClock;
    this.#retentionMs = options.retentionMs ?? 7 * 24 * 3_600_000;
    this.#sql = prepareJobStatements(db);
  }

  async create(input: NewJob): Promise<Job> {
    const { job, items } = buildJobRows(input, this.#clock.now());
    this.db.transaction(
      (tx) => {
        tx.insert(jobs).values(job).run();
        for (let i = 0; i < items.length; i += INSERT_CHUNK) {
          tx.insert(jobItems)
            .values(items.slice(i, i + INSERT_CHUNK))
            .run();
        }
      },
      { behavior: "immediate" },
    );
    return job;
  }

  #withCounts(job: Job): JobWithCounts {
    const rows = this.db
      .select({
        state: jobItems.state,
        n: count(),
        audioMs: sql<number>`coalesce(sum(${jobItems.audioMs}), 0)`.mapWith(Number),
        tokens: sql<number>`coalesce(sum(${jobItems.tokens}), 0)`.mapWith(Number),
        amountMicros: sql<number>`coalesce(sum(${jobItems.amountMicros}), 0)`.mapWith(Number),
      })
      .from(jobItems)
      .where(eq(jobItems.jobId, job.id))
      .groupBy(jobItems.state)
      .all();
    const counts = countItems([]);
    const totals = { audioMs: 0, tokens: 0, amountMicros: 0 };
    for (const r of rows) {
      counts[r.state] = r.n;
      if (r.state === "done")
        Object.assign(totals, { audioMs: r.audioMs, tokens: r.tokens, amountMicros: r.amountMicros });
    }
    return { job, counts, totals };
  }

  async get(jobId: string): Promise<JobWithCounts | null> {
    const job = this.db.select().from(jobs).where(eq(jobs.id, jobId)).get();
    return job ? this.#withCounts(job) : null;
  }

  async list(customerId: string, options: { limit?: number; beforeId?: string } = {}): Promise<JobWithCounts[]> {
    return this.db
      .select()
      .from(jobs)
      .where(
        and(
          eq(jobs.customerId, customerId),
          options.beforeId === undefined ? undefined : lt(jobs.id, options.beforeId),
        ),
      )
      .orderBy(desc(jobs.id))
      .limit(options.limit ?? 100)
      .all()
      .map((job) => this.#withCounts(job));
  }

  async items(jobId: string, options: { fromN?: number; limit?: number } = {}) {
    return this.db
      .select()
      .from(jobItems)
      .where(and(eq(jobItems.jobId, jobId), sql`${jobItems.n} >= ${options.fromN ?? 0}`))
      .orderBy(asc(jobItems.n))
      .limit(options.limit ?? -1)
      .all();
  }

  async item(jobId: string, n: number) {
    return this.db.select().from(jobItems).where(itemKey(jobId, n)).get() ?? null;
  }

  async activeUsage(customerId: string): Promise<ActiveUsage> {
    const row = this.db
      .select({ jobs: sql<number>`count(distinct ${jobItems.jobId})`, items: count() })
      .from(jobItems)
      .innerJoin(jobs, eq(jobs.id, jobItems.jobId))
      .where(and(eq(jobs.customerId, customerId), inArray(jobItems.state, [...ACTIVE_ITEM_STATES])))
      .get();
    return { jobs: Number(row?.jobs ?? 0), items: Number(row?.items ?? 0) };
  }

  async nextCustomer(options: Pick<ClaimOptions, "pools" | "holdOffPeakForPlans">): Promise<string | null> {
    if (options.pools.length === 0) return null;
    return this.#sql.nextCustomer({
      now: this.#clock.now(),
      pools: JSON.stringify(options.pools),
      hold: JSON.stringify(options.holdOffPeakForPlans ?? []),
    });
  }

  async claim(options: ClaimOptions): Promise<ClaimedItem[]> {
    if (options.limit <= 0 || options.pools.length === 0) return [];
    const now = this.#clock.now();
    const params = {
      now,
      limit: options.limit,
      pools: JSON.stringify(options.pools),
      hold: JSON.stringify(options.holdOffPeakForPlans ?? []),
      ...(options.only ? { onlyJob: options.only.jobId, onlyN: options.only.n } : {}),
    };
    return this.#sql.claim(params, options.leaseMs);
  }

  /** In a transaction that changed an item of `jobId`: the job is finished once nothing of it is left to run. */
  #settle(jobId: string, now: number): void {
    this.#sql.settle.run({ job: jobId, now, expires: now + this.#retentionMs });
  }

  /** Runs `update` (an item statement) in a transaction; settles the job when `final` and it changed the item. */
  #transition(update: Statement, params: Record<string, unknown>, final: boolean): boolean {
    return this.#sql.transition(update, params, final ? (job) => this.#settle(job, this.#clock.now()) : null);
  }

  async beginFinish(jobId: string, n: number, leaseToken: string): Promise<FinishOutcome> {
    const key = { job: jobId, n, token: leaseToken };
    if (this.#sql.beginFinish.run(key).changes === 1) return "ok";
    const item = this.#sql.leasedState.get(key) as { state: string } | undefined;
    if (item?.state === "finishing") return "ok";
    if (item?.state === "cancelled") return "cancelled";
    return "lost";
  }

  async complete(jobId: string, n: number, leaseToken: string, result: ItemResult): Promise<boolean> {
    return this.#transition(
      this.#sql.complete,
      { job: jobId, n, token: leaseToken, ...result, now: this.#clock.now() },
      true,
    );
  }

  async retry(jobId: string, n: number, leaseToken: string, error: ItemError, retryAt: number): Promise<RetryOutcome> {
    const key = { job: jobId, n, token: leaseToken };
    const item = this.#sql.leasedState.get(key) as
      | { state: string; attempts: number; max_attempts: number }
      | undefined;
    if (!item || (item.state !== "running" && item.state !== "finishing")) return "lost";
    const last = { ...key, code: error.code, message: error.message, at: retryAt };
    // A finishing item is committed to being charged: retried until it is, whatever the attempts.
    if (item.state === "finishing")
      return this.#transition(this.#sql.retryFinishing, last, false) ? "retrying" : "lost";
    if (item.attempts >= item.max_attempts) {
      const dead = exhaustedError(item.attempts, error);
      const params = { ...key, code: dead.code, message: dead.message, now: this.#clock.now() };
      return this.#transition(this.#sql.fail, params, true) ? "dead" : "lost";
    }
    return this.#transition(this.#sql.retryRunning, last, false) ? "retrying" : "lost";
  }

  async fail(jobId: string, n: number, leaseToken: string, error: ItemError): Promise<boolean> {
    const params = { job: jobId, n, token: leaseToken, code: error.code, message: error.message };
    return this.#transition(this.#sql.fail, { ...params, now: this.#clock.now() }, true);
  }

  async giveUp(jobId: string, n: number, error: ItemError): Promise<boolean> {
    const params = { job: jobId, n, code: error.code, message: error.message, now: this.#clock.now() };
    return this.#transition(this.#sql.giveUp, params, true);
  }

  async release(jobId: string, n: number, leaseToken: string, availableAt: number): Promise<boolean> {
    return this.#sql.release.run({ job: jobId, n, token: leaseToken, at: availableAt }).changes === 1;
  }

  async cancel(jobId: string): Promise<JobWithCounts | null> {
    const now = this.#clock.now();
    const job = this.db.transaction(
      (tx) => {
        const found = tx.select().from(jobs).where(eq(jobs.id, jobId)).get();
        if (!found || found.finishedAt !== null || found.cancelledAt !== null) return found ?? null;
        tx.update(jobs).set({ cancelledAt: now }).where(eq(jobs.id, jobId)).run();
        // A running item keeps its lease: its worker learns of the cancel at beginFinish.
        tx.update(jobItems)
          .set({
            state: "cancelled",
            completedAt: now,
            leaseToken: sql`case when ${jobItems.state} = 'running' then ${jobItems.leaseToken} end`,
          })
          .where(and(eq(jobItems.jobId, jobId), inArray(jobItems.state, ["queued", "running"])))
          .run();
        this.#settle(jobId, now);
        return tx.select().from(jobs).where(eq(jobs.id, jobId)).get() ?? null;
      },
      { behavior: "immediate" },
    );
    return job ? this.#withCounts(job) : null;
  }

  async releaseAllLeases(): Promise<number> {
    return this.db
      .update(jobItems)
      .set({ leaseToken: null, availableAt: this.#clock.now() })
      .where(inArray(jobItems.state, ["running", "finishing"]))
      .run().changes;
  }

  async dueCallbacks(limit: number): Promise<JobWithCounts[]> {
    return this.db
      .select()
      .from(jobs)
      .where(and(eq(jobs.callbackState, "pending"), lte(jobs.callbackNextAt, this.#clock.now())))
      .orderBy(asc(jobs.callbackNextAt))
      .limit(limit)
      .all()
      .map((job) => this.#withCounts(job));
  }

  async recordCallback(jobId: string, delivery: CallbackDelivery): Promise<void> {
    this.db
      .update(jobs)
      .set({ ...callbackChange(delivery, this.#clock.now()), callbackAttempts: sql`${jobs.callbackAttempts} + 1` })
      .where(and(eq(jobs.id, jobId), eq(jobs.callbackState, "pending")))
      .run();
  }

  async expired(limit: number): Promise<Job[]> {
    return this.db
      .select()
      .from(jobs)
      .where(and(isNotNull(jobs.expiresAt), lte(jobs.expiresAt, this.#clock.now())))
      .orderBy(asc(jobs.expiresAt))
      .limit(limit)
      .all();
  }

  async delete(jobId: string): Promise<boolean> {
    return this.db.transaction(
      (tx) => {
        tx.delete(jobItems).where(eq(jobItems.jobId, jobId)).run();
        return tx.delete(jobs).where(eq(jobs.id, jobId)).run().changes === 1;
      },
      { behavior: "immediate" },
    );
  }

  async stats(): Promise<ItemCounts> {
    const counts = countItems([]);
    for (const r of this.db
      .select({ state: jobItems.state, n: count() })
      .from(jobItems)
      .groupBy(jobItems.state)
      .all()) {
      counts[r.state] = r.n;
    }
    return counts;
  }

  async nextDueAt(): Promise<number | null> {
    const row = this.db
      .select({ at: jobItems.availableAt })
      .from(jobItems)
      .where(ACTIVE)
      .orderBy(asc(jobItems.availableAt))
      .limit(1)
      .get();
    return row?.at ?? null;
  }
}
