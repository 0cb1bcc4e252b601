/**
 * The fair claim's order in SQL (the rule: ../../jobs/fair.ts), shared by the SQLite and D1 job stores (both SQLite).
 * It reads the customers with unfinished jobs and their last service (`jobs_unfinished_idx`), each one's oldest due
 * item (`job_items_customer_due_idx`, one index probe), then the first `limit` due items of the first `limit`
 * customers only (a correlated LIMIT on the same index): a claim costs O(customers with unfinished jobs + limit²),
 * whatever the number of queued items or jobs, and the round-robin ranking runs over at most limit² rows.
 */
import { type SQL, sql } from "drizzle-orm";

export interface FairClaimParams {
  /** each a value or a placeholder: epoch ms, how many, JSON arrays of pools and of plans held for off-peak */
  now: unknown;
  limit: unknown;
  pools: unknown;
  hold: unknown;
  /** only this item (ClaimOptions.only) */
  only?: { jobId: unknown; n: unknown };
}

/**
 * `select job_id, n, customer_id` of the items to claim, in claim order (round, the customer's last service, age): a
 * complete statement, or the body of an `in (…)`.
 */
export function fairClaimKeys(p: FairClaimParams): SQL {
  const only = p.only ? sql` and d.job_id = ${p.only.jobId} and d.n = ${p.only.n}` : sql``;
  // The rowids of a customer's first `limit` due items that pass the filters, oldest first.
  const dueOf = (customer: SQL, limit: unknown) => sql`select d.rowid from job_items d join jobs dj on dj.id = d.job_id
      where d.customer_id = ${customer}
        and d.state in ('queued', 'running', 'finishing') and d.available_at <= ${p.now}${only}
        and dj.pool in (select value from json_each(${p.pools}))
        and not (dj.prefer_off_peak and dj.plan_id in (select value from json_each(${p.hold})))
      order by d.available_at, d.job_id, d.n limit ${limit}`;
  // Only the first `limit` customers by (last service, oldest due item) can have an item among the first `limit`:
  // the claim's first round is one item of each customer in that order.
  return sql`with last as (
    select customer_id, max(served_seq) as seq from jobs where finished_at is null group by customer_id
  ),
  heads as (
    select l.customer_id, l.seq from last l join job_items h on h.rowid = (${dueOf(sql.raw("l.customer_id"), sql.raw("1"))})
    order by l.seq, h.available_at, h.job_id, h.n limit ${p.limit}
  ),
  cand as (
    select i.job_id, i.n, i.available_at, c.customer_id, c.seq
    from heads c cross join job_items i
    where i.rowid in (${dueOf(sql.raw("c.customer_id"), p.limit)})
  ),
  ranked as (
    select job_id, n, customer_id, available_at, seq,
      row_number() over (partition by customer_id order by available_at, job_id, n) as r
    from cand
  )
  select job_id, n, customer_id from ranked order by r, seq, available_at, job_id, n limit ${p.limit}`;
}

/** The highest `served_seq` of any unfinished job: the claim's base (0 when none). */
export const SERVED_BASE = sql`(select coalesce(max(served_seq), 0) from jobs where finished_at is null)`;
