/**
 * Series the Node proxy's alert rules need beyond the request path's (prom-metrics.ts): ledger commit latency, the
 * billing run's outcome and the usage dead letters still open. Kept in a registry of their own, appended to /metrics
 * by `withOpsMetrics`, so they are wired in the entry without touching the app's metrics port.
 * Rules and alerts over them: deploy/prometheus/rules/.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ScheduledRun } from "../../../../billing/src/service.ts";
import type { SqliteDb } from "../../../../storage/sqlite/open.ts";
import type { ProxyMetrics } from "../../http/deps.ts";
import type { UsageLedger } from "../../store/ports.ts";

/** A usage dead letter whose replay failed this often is reported stuck (the edge cron's threshold too). */
export const STUCK_AFTER_REPLAYS = 5;

export interface OpsMetrics {
  registry: Registry;
  /** The ledger with each append (one transaction of the group commit) timed. */
  timedLedger(ledger: UsageLedger): UsageLedger;
  /** Records a scheduled billing run: its reconciliation reports, or the error that ended it. */
  billingRun(result: { run: ScheduledRun } | { error: unknown }): void;
}

/** `db`: the SQLite database, whose usage dead letters are counted; null (Postgres) leaves that gauge out. */
export function createOpsMetrics(db: SqliteDb | null, now: () => number = Date.now): OpsMetrics {
  const registry = new Registry();
  const registers = [registry];
  const commit = new Histogram({
    name: "proxy_ledger_commit_seconds",
    help: "One usage-ledger transaction (a group commit of many requests' rows), by outcome",
    labelNames: ["outcome"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const committed = new Counter({
    name: "proxy_ledger_committed_events_total",
    help: "Usage rows committed",
    registers,
  });
  const runs = new Counter({
    name: "billing_reconcile_runs_total",
    help: "Scheduled billing runs: ok (every period reconciled), failed (a report not ok), error (the run threw)",
    labelNames: ["outcome"],
    registers,
  });
  const lastOk = new Gauge({
    name: "billing_reconcile_last_run_ok",
    help: "1 when the latest scheduled billing run reconciled every period, else 0",
    registers,
  });
  const lastRun = new Gauge({
    name: "billing_reconcile_last_run_timestamp_seconds",
    help: "When the latest scheduled billing run ended",
    registers,
  });
  for (const outcome of ["ok", "failed", "error"]) runs.inc({ outcome }, 0);
  for (const outcome of ["ok", "error"]) commit.zero({ outcome });
  if (db) {
    const openDeadLetters = db.$client.prepare(
      `SELECT COALESCE(SUM(replay_attempts >= ?), 0) AS stuck, COUNT(*) AS open
         FROM queue_dead_letters WHERE kind = 'usage' AND resolved_at IS NULL`,
    );
    new Gauge({
      name: "proxy_usage_dead_letters_open",
      help: `Usage events dead-lettered and not yet replayed into the ledger; stuck: replay failed ${STUCK_AFTER_REPLAYS}+ times`,
      labelNames: ["stuck"],
      registers,
      collect() {
        const row = openDeadLetters.get(STUCK_AFTER_REPLAYS) as { stuck: number; open: number };
        this.set({ stuck: "true" }, row.stuck);
        this.set({ stuck: "false" }, row.open - row.stuck);
      },
    });
  }
  return {
    registry,
    timedLedger: (inner) => ({
      append: async (events) => {
        const end = commit.startTimer();
        try {
          const outcomes = await inner.append(events);
          end({ outcome: "ok" });
          committed.inc(events.length);
          return outcomes;
        } catch (e) {
          end({ outcome: "error" });
          throw e;
        }
      },
      usageByDay: (q) => inner.usageByDay(q),
      totals: (q) => inner.totals(q),
    }),
    billingRun: (result) => {
      const outcome = "error" in result ? "error" : result.run.reports.every((r) => r.ok) ? "ok" : "failed";
      if ("run" in result && result.run.skipped) return;
      runs.inc({ outcome });
      lastOk.set(outcome === "ok" ? 1 : 0);
      lastRun.set(now() / 1000);
    },
  };
}

/** The app's metrics with `extra`'s series appended to every scrape. */
export function withOpsMetrics(metrics: ProxyMetrics, extra: Registry): ProxyMetrics {
  return {
    ...metrics,
    render: async () => {
      const own = await metrics.render();
      return { contentType: own.contentType, body: `${own.body.trimEnd()}\n${await extra.metrics()}` };
    },
  };
}
