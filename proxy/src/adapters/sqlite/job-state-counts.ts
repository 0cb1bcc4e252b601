/**
 * Jobs and items by state in two aggregate queries: the SQLite batch queue's answer to the metrics' `stateCounts`
 * (../../jobs/metrics.ts), instead of walking every customer's jobs through the ports at each scrape.
 */
import { sql } from "drizzle-orm";
import { jobItems, jobs } from "../../../../migrations/schema/index.ts";
import type { SqliteDb } from "../../../../storage/sqlite/open.ts";
import { DEAD_LETTER_CODE, JOB_STATUSES, type JobStateCounts } from "../../jobs/metrics.ts";
import type { JobStatus } from "../../jobs/model.ts";

export function sqliteJobStateCounts(db: SqliteDb): () => Promise<JobStateCounts> {
  const dead = sql.raw(`'${DEAD_LETTER_CODE}'`);
  const { state, errorCode } = jobItems;
  return async () => {
    const items = db.get<Record<string, number | null>>(sql`
      select
        sum(${state} = 'queued') as queued,
        sum(${state} in ('running', 'finishing')) as running,
        sum(${state} = 'done') as done,
        sum(${state} = 'failed' and ${errorCode} is not ${dead}) as failed,
        sum(${state} = 'failed' and ${errorCode} is ${dead}) as dead_lettered,
        sum(${state} = 'cancelled') as cancelled
      from ${jobItems}`);
    // A job's status from its items' counts, as `jobStatus` (../../jobs/model.ts) derives it.
    const rows = db.all<{ status: JobStatus; n: number }>(sql`
      select status, count(*) as n from (
        select case
          when s.active > 0 then case when s.active = s.queued and s.queued = s.total then 'queued' else 'running' end
          when ${jobs.cancelledAt} is not null then 'cancelled'
          when s.done = s.total then 'succeeded'
          when s.done = 0 then 'failed'
          else 'completed_with_errors'
        end as status
        from ${jobs} join (
          select ${jobItems.jobId} as job_id, count(*) as total, sum(${state} = 'queued') as queued,
            sum(${state} in ('queued', 'running', 'finishing')) as active, sum(${state} = 'done') as done
          from ${jobItems} group by ${jobItems.jobId}
        ) as s on s.job_id = ${jobs.id}
      ) group by status`);
    const byStatus = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>;
    for (const r of rows) byStatus[r.status] = r.n;
    const n = (k: string) => items?.[k] ?? 0;
    return {
      jobs: byStatus,
      items: {
        queued: n("queued"),
        running: n("running"),
        done: n("done"),
        failed: n("failed"),
        dead_lettered: n("dead_lettered"),
        cancelled: n("cancelled"),
      },
    };
  };
}
