/**
 * The D1 job store's fair claim (the rule: ../../../jobs/fair.ts; its SQL, shared with SQLite: ../../sqlite/fair-claim.ts):
 * the due items in fair order, their leases and their jobs' `served_seq` in one batch, and the read-only
 * `nextCustomer`.
 */
import { eq, sql } from "drizzle-orm";
import { jobItems, jobs } from "../../../../../migrations/schema/index.ts";
import type { D1Db } from "../../../../../storage/d1/db.ts";
import { fairOrder } from "../../../jobs/fair.ts";
import type { ClaimedItem, ClaimOptions } from "../../../jobs/ports.ts";
import { fairClaimKeys, SERVED_BASE } from "../../sqlite/fair-claim.ts";

export async function nextCustomer(
  db: D1Db,
  now: number,
  options: Pick<ClaimOptions, "pools" | "holdOffPeakForPlans">,
): Promise<string | null> {
  if (options.pools.length === 0) return null;
  const first = await db.get<{ customer_id: string }>(
    fairClaimKeys({
      now,
      limit: 1,
      pools: JSON.stringify(options.pools),
      hold: JSON.stringify(options.holdOffPeakForPlans ?? []),
    }),
  );
  return first?.customer_id ?? null;
}

/**
 * The due items in fair order (../../../jobs/fair.ts), then their leases and their jobs' `served_seq`, in one batch
 * (one transaction): every statement sees the same items, nothing can claim between. The leases carry the claim's
 * id, so the last statement counts each customer's items of this claim among the leased ones.
 */
export async function claimFair(db: D1Db, now: number, options: ClaimOptions): Promise<ClaimedItem[]> {
  if (options.limit <= 0 || options.pools.length === 0) return [];
  const until = now + options.leaseMs;
  const claimId = crypto.randomUUID().replaceAll("-", "");
  const keys = fairClaimKeys({
    now,
    limit: options.limit,
    pools: JSON.stringify(options.pools),
    hold: JSON.stringify(options.holdOffPeakForPlans ?? []),
    ...(options.only ? { only: options.only } : {}),
  });
  const mine = (alias: string) =>
    sql
      .raw(`${alias}.state in ('queued', 'running', 'finishing') and ${alias}.available_at = `)
      .append(sql`${until} and substr(${sql.raw(alias)}.lease_token, 1, 32) = ${claimId}`);
  const picked = sql`(${jobItems.jobId}, ${jobItems.n}) in (select job_id, n from (${keys}))`;
  const [before, updated, servedJobs] = await db.batch([
    // The claimed items as they were, with their customer's last service: their order, by the same rule in JS.
    db
      .select({
        jobId: jobItems.jobId,
        n: jobItems.n,
        availableAt: jobItems.availableAt,
        customerId: jobs.customerId,
        customerSeq: sql<number>`(select max(s.served_seq) from jobs s
          where s.finished_at is null and s.customer_id = ${jobs.customerId})`.mapWith(Number),
      })
      .from(jobItems)
      .innerJoin(jobs, eq(jobs.id, jobItems.jobId))
      .where(picked),
    db
      .update(jobItems)
      .set({
        // One token per row: the claim's id, then the row's own random part.
        leaseToken: sql`${claimId} || lower(hex(randomblob(8)))`,
        availableAt: until,
        attempts: sql`${jobItems.attempts} + (${jobItems.state} <> 'finishing')`,
        state: sql`case when ${jobItems.state} = 'finishing' then 'finishing' else 'running' end`,
      })
      .where(picked)
      .returning(),
    db
      .update(jobs)
      .set({
        servedSeq: sql`${SERVED_BASE} + (select count(*) from job_items m join jobs mj on mj.id = m.job_id
          where ${mine("m")} and mj.customer_id = ${jobs.customerId})`,
      })
      .where(sql`${jobs.id} in (select m.job_id from job_items m where ${mine("m")})`)
      .returning(),
  ]);
  const leasedNow = new Map(updated.map((i) => [`${i.jobId}/${i.n}`, i]));
  const jobsNow = new Map(servedJobs.map((j) => [j.id, j]));
  return fairOrder(before, options.limit).flatMap(({ jobId, n }) => {
    const lease = leasedNow.get(`${jobId}/${n}`);
    const job = jobsNow.get(jobId);
    return lease?.leaseToken && job ? [{ job, item: lease, leaseToken: lease.leaseToken }] : [];
  });
}
