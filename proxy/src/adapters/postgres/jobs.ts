/**
 * The batch queue on Postgres: the hot paths (create, the fair claim, item transitions, cancel, delete) here, each one
 * short transaction; reads and single-statement writes are `SqlJobStore`'s. Several replicas claim from one table, so
 * claims take one transaction-level advisory lock: they run one after another (each a few milliseconds), and each
 * reads the fair order after the previous claim committed its leases (READ COMMITTED: a fresh snapshot per
 * statement), which is what makes concurrent claims take disjoint items and, together, all of them (SKIP LOCKED
 * would skip rows, not keep the fair order). Each lease is also an UPDATE that re-checks the item is still due.
 * Leases end on their own (`available_at`), so no replica releases another's on start.
 */
import { and, eq, inArray, type SQL, sql } from "drizzle-orm";
import { asSqlDb, type PgDb } from "../../../../storage/pg/open.ts";
import { type SqlDb, tablesOf } from "../../../../storage/sql-db.ts";
import { servedSeqs } from "../../jobs/fair.ts";
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

type ItemState = "queued" | "running" | "finishing" | "done" | "failed" | "cancelled";

const INSERT_CHUNK = 1_000;
/** Any key: taken by every replica's claim transaction (pg_advisory_xact_lock), released at its commit. */
const CLAIM_LOCK = 7_305_221_002;
const ACTIVE_STATES = ["queued", "running", "finishing"] as const;

interface FairParams {
  now: number;
  limit: number;
  pools: readonly string[];
  hold: readonly string[];
  only?: { jobId: string; n: number };
}

/**
 * The fair claim's order (the rule: ../../jobs/fair.ts), as `../sqlite/fair-claim.ts` writes it for SQLite: the
 * customers with unfinished jobs by last service, each one's oldest due item (a LATERAL probe of
 * `job_items_customer_due_idx`), then the first `limit` due items of the first `limit` customers, ranked round-robin.
 * Lists are bound as arrays (`= any($1)`), so one statement serves every length.
 */
function fairClaimKeys(p: FairParams): SQL {
  const only = p.only ? sql` and d.job_id = ${p.only.jobId} and d.n = ${p.only.n}` : sql``;
  const pools = sql.param([...p.pools]);
  const hold = sql.param([...p.hold]);
  const dueOf = (customer: SQL, limit: SQL | number) => sql`select d.job_id, d.n, d.available_at
      from job_items d join jobs dj on dj.id = d.job_id
      where d.customer_id = ${customer}
        and d.state in ('queued', 'running', 'finishing') and d.available_at <= ${p.now}${only}
        and dj.pool = any(${pools}::text[])
        and not (dj.prefer_off_peak and dj.plan_id = any(${hold}::text[]))
      order by d.available_at, d.job_id, d.n limit ${limit}`;
  return sql`with last as (
    select customer_id, max(served_seq) as seq from jobs where finished_at is null group by customer_id
  ),
  heads as (
    select l.customer_id, l.seq from last l cross join lateral (${dueOf(sql.raw("l.customer_id"), sql.raw("1"))}) h
    order by l.seq, h.available_at, h.job_id, h.n limit ${p.limit}
  ),
  cand as (
    select i.job_id, i.n, i.available_at, c.customer_id, c.seq
    from heads c cross join lateral (${dueOf(sql.raw("c.customer_id"), p.limit)}) i
  ),
  ranked as (
    select job_id, n, customer_id, available_at, seq,
      row_number() over (partition by customer_id order by available_at, job_id, n) as r
    from cand
  )
  select job_id, n, customer_id from ranked order by r, seq, available_at, job_id, n limit ${p.limit}`;
}

type Executor = { execute(query: SQL): Promise<{ rows: Record<string, unknown>[] }> };

export class PostgresJobStore extends SqlJobStore {
  constructor(
    private readonly pg: PgDb,
    options: JobStoreOptions = {},
  ) {
    super(asSqlDb(pg), options);
  }

  /** One transaction; `work` gets the transaction as a store-typed database and as a raw executor. */
  #tx<T>(work: (db: SqlDb, raw: Executor) => Promise<T>): Promise<T> {
    return this.pg.transaction((tx) => work(asSqlDb(tx as unknown as PgDb), tx as unknown as Executor));
  }

  async create(input: NewJob): Promise<Job> {
    const { jobs, jobItems } = tablesOf(this.db);
    const { job, items } = buildJobRows(input, this.now());
    await this.#tx(async (tx) => {
      await tx.insert(jobs).values(job);
      for (let i = 0; i < items.length; i += INSERT_CHUNK) {
        await tx.insert(jobItems).values(items.slice(i, i + INSERT_CHUNK));
      }
    });
    return job;
  }

  async nextCustomer(options: Pick<ClaimOptions, "pools" | "holdOffPeakForPlans">): Promise<string | null> {
    if (options.pools.length === 0) return null;
    const keys = fairClaimKeys({
      now: this.now(),
      limit: 1,
      pools: options.pools,
      hold: options.holdOffPeakForPlans ?? [],
    });
    const { rows } = await (this.pg as unknown as Executor).execute(keys);
    return (rows[0]?.customer_id as string | undefined) ?? null;
  }

  async claim(options: ClaimOptions): Promise<ClaimedItem[]> {
    if (options.limit <= 0 || options.pools.length === 0) return [];
    const { jobs, jobItems } = tablesOf(this.db);
    const now = this.now();
    const until = now + options.leaseMs;
    return this.#tx(async (tx, raw) => {
      await raw.execute(sql`select pg_advisory_xact_lock(${CLAIM_LOCK})`);
      const keys = (
        await raw.execute(
          fairClaimKeys({
            now,
            limit: options.limit,
            pools: options.pools,
            hold: options.holdOffPeakForPlans ?? [],
            ...(options.only ? { only: options.only } : {}),
          }),
        )
      ).rows.map((r) => ({ jobId: String(r.job_id), n: Number(r.n), customerId: String(r.customer_id) }));
      if (keys.length === 0) return [];
      const base = await raw.execute(
        sql`select coalesce(max(served_seq), 0) as base from jobs where finished_at is null`,
      );
      const seqs = servedSeqs(keys, Number(base.rows[0]?.base ?? 0));
      const claimed: ClaimedItem[] = [];
      for (const k of keys) {
        const leaseToken = crypto.randomUUID();
        // Re-checked here: another replica may have leased it since the read (see the file's comment).
        const [item] = await tx
          .update(jobItems)
          .set({
            leaseToken,
            availableAt: until,
            attempts: sql`${jobItems.attempts} + case when ${jobItems.state} = 'finishing' then 0 else 1 end`,
            state: sql`case when ${jobItems.state} = 'finishing' then 'finishing' else 'running' end`,
          })
          .where(
            and(
              eq(jobItems.jobId, k.jobId),
              eq(jobItems.n, k.n),
              inArray(jobItems.state, [...ACTIVE_STATES]),
              sql`${jobItems.availableAt} <= ${now}`,
            ),
          )
          .returning();
        if (!item) continue;
        const seq = seqs.get(k.jobId);
        const [job] =
          seq === undefined
            ? await tx.select().from(jobs).where(eq(jobs.id, k.jobId))
            : await tx.update(jobs).set({ servedSeq: seq }).where(eq(jobs.id, k.jobId)).returning();
        if (job) claimed.push({ job, item, leaseToken });
      }
      return claimed;
    });
  }

  /** In a transaction that changed an item of `jobId`: the job is finished once nothing of it is left to run. */
  async #settle(raw: Executor, jobId: string, now: number): Promise<void> {
    await raw.execute(sql`update jobs set finished_at = ${now}, expires_at = ${now + this.retentionMs},
        callback_state = case when callback_url is not null then 'pending' end,
        callback_next_at = case when callback_url is not null then ${now}::bigint end
      where id = ${jobId} and finished_at is null
        and not exists (select 1 from job_items where job_id = ${jobId} and state in ('queued', 'running', 'finishing'))`);
  }

  /** One item update (its WHERE the transition's precondition); when `final` and it changed the item, settles. */
  async #transition(
    jobId: string,
    n: number,
    set: Record<string, unknown>,
    condition: SQL,
    final: boolean,
  ): Promise<boolean> {
    const { jobItems } = tablesOf(this.db);
    return this.#tx(async (tx, raw) => {
      const changed = await tx
        .update(jobItems)
        .set(set)
        .where(and(eq(jobItems.jobId, jobId), eq(jobItems.n, n), condition))
        .returning({ n: jobItems.n });
      if (changed.length === 1 && final) await this.#settle(raw, jobId, this.now());
      return changed.length === 1;
    });
  }

  #leased(token: string, ...states: ItemState[]): SQL {
    const { jobItems } = tablesOf(this.db);
    return and(eq(jobItems.leaseToken, token), inArray(jobItems.state, states)) as SQL;
  }

  async #leasedState(jobId: string, n: number, token: string) {
    const { jobItems } = tablesOf(this.db);
    const [item] = await this.db
      .select({ state: jobItems.state, attempts: jobItems.attempts, maxAttempts: jobItems.maxAttempts })
      .from(jobItems)
      .where(and(eq(jobItems.jobId, jobId), eq(jobItems.n, n), eq(jobItems.leaseToken, token)));
    return item;
  }

  async beginFinish(jobId: string, n: number, leaseToken: string): Promise<FinishOutcome> {
    if (await this.#transition(jobId, n, { state: "finishing" }, this.#leased(leaseToken, "running"), false)) {
      return "ok";
    }
    const item = await this.#leasedState(jobId, n, leaseToken);
    if (item?.state === "finishing") return "ok";
    if (item?.state === "cancelled") return "cancelled";
    return "lost";
  }

  async complete(jobId: string, n: number, leaseToken: string, result: ItemResult): Promise<boolean> {
    const set = {
      state: "done",
      leaseToken: null,
      ...result,
      completedAt: this.now(),
      errorCode: null,
      errorMessage: null,
    };
    return this.#transition(jobId, n, set, this.#leased(leaseToken, "finishing"), true);
  }

  async retry(jobId: string, n: number, leaseToken: string, error: ItemError, retryAt: number): Promise<RetryOutcome> {
    const item = await this.#leasedState(jobId, n, leaseToken);
    if (!item || (item.state !== "running" && item.state !== "finishing")) return "lost";
    const last = { leaseToken: null, errorCode: error.code, errorMessage: error.message, availableAt: retryAt };
    // A finishing item is committed to being charged: retried until it is, whatever the attempts.
    if (item.state === "finishing") {
      return (await this.#transition(jobId, n, last, this.#leased(leaseToken, "finishing"), false))
        ? "retrying"
        : "lost";
    }
    if (item.attempts >= item.maxAttempts) {
      const dead = exhaustedError(item.attempts, error);
      const set = {
        state: "failed",
        leaseToken: null,
        errorCode: dead.code,
        errorMessage: dead.message,
        completedAt: this.now(),
      };
      return (await this.#transition(jobId, n, set, this.#leased(leaseToken, "running"), true)) ? "dead" : "lost";
    }
    const set = { ...last, state: "queued" };
    return (await this.#transition(jobId, n, set, this.#leased(leaseToken, "running"), false)) ? "retrying" : "lost";
  }

  async fail(jobId: string, n: number, leaseToken: string, error: ItemError): Promise<boolean> {
    const set = {
      state: "failed",
      leaseToken: null,
      errorCode: error.code,
      errorMessage: error.message,
      completedAt: this.now(),
    };
    return this.#transition(jobId, n, set, this.#leased(leaseToken, "running"), true);
  }

  async giveUp(jobId: string, n: number, error: ItemError): Promise<boolean> {
    const { jobItems } = tablesOf(this.db);
    const set = {
      state: "failed",
      leaseToken: null,
      errorCode: error.code,
      errorMessage: error.message,
      completedAt: this.now(),
    };
    return this.#transition(jobId, n, set, inArray(jobItems.state, ["queued", "running"]), true);
  }

  async release(jobId: string, n: number, leaseToken: string, availableAt: number): Promise<boolean> {
    const { jobItems } = tablesOf(this.db);
    const set = {
      attempts: sql`case when ${jobItems.state} = 'running' then greatest(0, ${jobItems.attempts} - 1) else ${jobItems.attempts} end`,
      state: sql`case when ${jobItems.state} = 'running' then 'queued' else ${jobItems.state} end`,
      leaseToken: null,
      availableAt,
    };
    return this.#transition(jobId, n, set, this.#leased(leaseToken, "running", "finishing"), false);
  }

  async cancel(jobId: string): Promise<JobWithCounts | null> {
    const { jobs, jobItems } = tablesOf(this.db);
    const now = this.now();
    const job = await this.#tx(async (tx, raw) => {
      // FOR UPDATE: a concurrent cancel or settle of this job waits for this one.
      const [found] = await raw.execute(sql`select id from jobs where id = ${jobId} for update`).then((r) => r.rows);
      if (!found) return null;
      const [current] = await tx.select().from(jobs).where(eq(jobs.id, jobId));
      if (!current || current.finishedAt !== null || current.cancelledAt !== null) return current ?? null;
      await tx.update(jobs).set({ cancelledAt: now }).where(eq(jobs.id, jobId));
      // A running item keeps its lease: its worker learns of the cancel at beginFinish.
      await tx
        .update(jobItems)
        .set({
          state: "cancelled",
          completedAt: now,
          leaseToken: sql`case when ${jobItems.state} = 'running' then ${jobItems.leaseToken} end`,
        })
        .where(and(eq(jobItems.jobId, jobId), inArray(jobItems.state, ["queued", "running"])));
      await this.#settle(raw, jobId, now);
      const [after] = await tx.select().from(jobs).where(eq(jobs.id, jobId));
      return after ?? null;
    });
    return job ? ((await this.withCounts([job]))[0] ?? null) : null;
  }

  async delete(jobId: string): Promise<boolean> {
    const { jobs, jobItems } = tablesOf(this.db);
    return this.#tx(async (tx) => {
      await tx.delete(jobItems).where(eq(jobItems.jobId, jobId));
      return (await tx.delete(jobs).where(eq(jobs.id, jobId)).returning({ id: jobs.id })).length === 1;
    });
  }
}
