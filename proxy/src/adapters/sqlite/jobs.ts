/**
 * The batch queue on SQLite: jobs and items in the proxy's database, every transition one short transaction. Safe
 * across restarts: a claimed item is leased (its `available_at` is the lease's end), so items of a process that died
 * are claimed again; the Node entry calls `releaseAllLeases()` on start, being the only worker of its database.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import { jobItems, jobs } from "../../../../migrations/schema/index.ts";
import type { SqliteDb } from "../../../../storage/sqlite/open.ts";
import type { Job, NewJob } from "../../jobs/model.ts";
import type {
  ClaimedItem,
  ClaimOptions,
  FinishOutcome,
  ItemError,
  ItemResult,
  JobWithCounts,
  RetryOutcome,
} from "../../jobs/ports.ts";
import { buildJobRows, exhaustedError, type JobStoreOptions } from "../../jobs/rows.ts";
import { SqlJobStore } from "../sql/jobs.ts";
import { prepareJobStatements, type Statement } from "./job-statements.ts";

const INSERT_CHUNK = 500;

export class SqliteJobStore extends SqlJobStore {
  readonly #sql: ReturnType<typeof prepareJobStatements>;

  constructor(
    protected override readonly db: SqliteDb,
    options: JobStoreOptions = {},
  ) {
    super(db, options);
    this.#sql = prepareJobStatements(db);
  }

  async create(input: NewJob): Promise<Job> {
    const { job, items } = buildJobRows(input, this.now());
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

  async nextCustomer(options: Pick<ClaimOptions, "pools" | "holdOffPeakForPlans">): Promise<string | null> {
    if (options.pools.length === 0) return null;
    return this.#sql.nextCustomer({
      now: this.now(),
      pools: JSON.stringify(options.pools),
      hold: JSON.stringify(options.holdOffPeakForPlans ?? []),
    });
  }

  async claim(options: ClaimOptions): Promise<ClaimedItem[]> {
    if (options.limit <= 0 || options.pools.length === 0) return [];
    const now = this.now();
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
    this.#sql.settle.run({ job: jobId, now, expires: now + this.retentionMs });
  }

  /** Runs `update` (an item statement) in a transaction; settles the job when `final` and it changed the item. */
  #transition(update: Statement, params: Record<string, unknown>, final: boolean): boolean {
    return this.#sql.transition(update, params, final ? (job) => this.#settle(job, this.now()) : null);
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
    return this.#transition(this.#sql.complete, { job: jobId, n, token: leaseToken, ...result, now: this.now() }, true);
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
      const params = { ...key, code: dead.code, message: dead.message, now: this.now() };
      return this.#transition(this.#sql.fail, params, true) ? "dead" : "lost";
    }
    return this.#transition(this.#sql.retryRunning, last, false) ? "retrying" : "lost";
  }

  async fail(jobId: string, n: number, leaseToken: string, error: ItemError): Promise<boolean> {
    const params = { job: jobId, n, token: leaseToken, code: error.code, message: error.message };
    return this.#transition(this.#sql.fail, { ...params, now: this.now() }, true);
  }

  async giveUp(jobId: string, n: number, error: ItemError): Promise<boolean> {
    const params = { job: jobId, n, code: error.code, message: error.message, now: this.now() };
    return this.#transition(this.#sql.giveUp, params, true);
  }

  async release(jobId: string, n: number, leaseToken: string, availableAt: number): Promise<boolean> {
    return this.#sql.release.run({ job: jobId, n, token: leaseToken, at: availableAt }).changes === 1;
  }

  async cancel(jobId: string): Promise<JobWithCounts | null> {
    const now = this.now();
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
    return job ? ((await this.withCounts([job]))[0] ?? null) : null;
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
}
