/**
 * The batch queue's hot statements, prepared once per connection: every item goes through a claim, beginFinish and
 * complete, and building or preparing each statement per call cost more CPU than running it (profiled: about two
 * thirds of the feeder's time). Lists (pools, plans) are bound as JSON arrays and read with json_each, so one statement
 * serves every list length.
 */
import { and, eq, sql } from "drizzle-orm";
import { SQLiteSyncDialect } from "drizzle-orm/sqlite-core";
import { jobItems, jobs } from "../../../../migrations/schema/index.ts";
import type { SqliteDb } from "../../../../storage/sqlite/open.ts";
import { servedSeqs } from "../../jobs/fair.ts";
import type { ClaimedItem } from "../../jobs/ports.ts";
import { fairClaimKeys, SERVED_BASE } from "./fair-claim.ts";

/** Written exactly as in the partial index `job_items_due_idx`, so SQLite can use it (a bound list would not match). */
const ACTIVE_RAW = `"job_items"."state" in ('queued', 'running', 'finishing')`;
const LEASED = "job_id = @job and n = @n and lease_token = @token";

export type Statement = { run(params: Record<string, unknown>): { changes: number } };

export function prepareJobStatements(db: SqliteDb) {
  const c = db.$client;
  const named = (name: string) => sql.raw(`@${name}`);
  const fairSql = (only: boolean) =>
    c.prepare(
      new SQLiteSyncDialect().sqlToQuery(
        fairClaimKeys({
          now: named("now"),
          limit: named("limit"),
          pools: named("pools"),
          hold: named("hold"),
          ...(only ? { only: { jobId: named("onlyJob"), n: named("onlyN") } } : {}),
        }),
      ).sql,
    );
  const fair = fairSql(false);
  // One named item (ClaimOptions.only): by its primary key, under the same conditions.
  const fairOne = fairSql(true);
  const base = c.prepare(new SQLiteSyncDialect().sqlToQuery(sql`select ${SERVED_BASE} as base`).sql).pluck();
  const row = db
    .select({ item: jobItems, job: jobs })
    .from(jobItems)
    .innerJoin(jobs, eq(jobs.id, jobItems.jobId))
    .where(and(eq(jobItems.jobId, sql.placeholder("job")), eq(jobItems.n, sql.placeholder("n"))))
    .prepare();
  const served = c.prepare("update jobs set served_seq = @seq where id = @job");
  const lease = c.prepare(
    `update job_items set lease_token = @token, available_at = @until,
       attempts = attempts + (state <> 'finishing'),
       state = case when state = 'finishing' then 'finishing' else 'running' end
     where job_id = @job and n = @n`,
  );
  const settle = c.prepare(
    `update jobs set finished_at = @now, expires_at = @expires,
       callback_state = case when callback_url is not null then 'pending' end,
       callback_next_at = case when callback_url is not null then @now end
     where id = @job and finished_at is null
       and not exists (select 1 from job_items where job_id = @job and ${ACTIVE_RAW})`,
  );
  const claimTx = c.transaction((params: Record<string, unknown>, now: number, leaseMs: number): ClaimedItem[] => {
    const keys = ("onlyJob" in params ? fairOne : fair).all(params) as {
      job_id: string;
      n: number;
      customer_id: string;
    }[];
    const seqs = servedSeqs(
      keys.map((k) => ({ jobId: k.job_id, customerId: k.customer_id })),
      Number(base.get()),
    );
    for (const [job, seq] of seqs) served.run({ job, seq });
    return keys.flatMap((k) => {
      const found = row.get({ job: k.job_id, n: k.n });
      if (!found) return [];
      const { item, job } = found;
      const leaseToken = crypto.randomUUID();
      const finishing = item.state === "finishing";
      lease.run({ token: leaseToken, until: now + leaseMs, job: item.jobId, n: item.n });
      const leased = {
        ...item,
        leaseToken,
        availableAt: now + leaseMs,
        ...(finishing ? {} : { state: "running" as const, attempts: item.attempts + 1 }),
      };
      return [{ job: { ...job, servedSeq: seqs.get(job.id) ?? job.servedSeq }, item: leased, leaseToken }];
    });
  });
  const transitionTx = c.transaction(
    (statement: Statement, params: Record<string, unknown>, after: ((jobId: string) => void) | null) => {
      const changed = statement.run(params).changes === 1;
      if (changed && after) after(String(params.job));
      return changed;
    },
  );
  return {
    /** the customer of the first item the fair order would claim (read only) */
    nextCustomer: (params: { now: number; pools: string; hold: string }) =>
      (fair.get({ ...params, limit: 1 }) as { customer_id: string } | undefined)?.customer_id ?? null,
    /** the due items in fair order (../../jobs/fair.ts), then their leases, in one IMMEDIATE transaction */
    claim: (
      params: { now: number; limit: number; pools: string; hold: string; onlyJob?: string; onlyN?: number },
      leaseMs: number,
    ) => claimTx.immediate(params, params.now, leaseMs),
    settle,
    transition: (statement: Statement, params: Record<string, unknown>, after: ((jobId: string) => void) | null) =>
      transitionTx.immediate(statement, params, after),
    beginFinish: c.prepare(`update job_items set state = 'finishing' where ${LEASED} and state = 'running'`),
    leasedState: c.prepare(`select state, attempts, max_attempts from job_items where ${LEASED}`),
    complete: c.prepare(
      `update job_items set state = 'done', lease_token = null, audio_ms = @audioMs, tokens = @tokens,
         amount_micros = @amountMicros, pcm_bytes = @pcmBytes, pcm_format = @pcmFormat, completed_at = @now,
         error_code = null, error_message = null
       where ${LEASED} and state = 'finishing'`,
    ),
    retryFinishing: c.prepare(
      `update job_items set lease_token = null, error_code = @code, error_message = @message, available_at = @at
       where ${LEASED} and state = 'finishing'`,
    ),
    retryRunning: c.prepare(
      `update job_items set state = 'queued', lease_token = null, error_code = @code, error_message = @message,
         available_at = @at
       where ${LEASED} and state = 'running'`,
    ),
    fail: c.prepare(
      `update job_items set state = 'failed', lease_token = null, error_code = @code, error_message = @message,
         completed_at = @now
       where ${LEASED} and state = 'running'`,
    ),
    giveUp: c.prepare(
      `update job_items set state = 'failed', lease_token = null, error_code = @code, error_message = @message,
         completed_at = @now
       where job_id = @job and n = @n and state in ('queued', 'running')`,
    ),
    release: c.prepare(
      `update job_items set
         attempts = case when state = 'running' then max(0, attempts - 1) else attempts end,
         state = case when state = 'running' then 'queued' else state end,
         lease_token = null, available_at = @at
       where ${LEASED} and state in ('running', 'finishing')`,
    ),
  };
}
