/**
 * The Node proxy's database, by configuration: the embedded SQLite file in DATA_DIR (the default), or Postgres when
 * DATABASE_URL is a postgres:// URL (several replicas on one database). Either way the same stores (written once over
 * drizzle, `../sql/`), with each engine's ledger append and batch-queue hot paths, and where batch results live:
 * files in DATA_DIR for the one SQLite process, the database itself on Postgres (any replica serves any item).
 */
import { join } from "node:path";
import type { BillingStores } from "../../../../billing/src/store/ports.ts";
import { createSqlBillingStores } from "../../../../billing/src/store/sql/index.ts";
import { asSqlDb, closePostgres, openPostgres } from "../../../../storage/pg/open.ts";
import { withStateCounts } from "../../jobs/metrics.ts";
import type { JobStore, ResultStore } from "../../jobs/ports.ts";
import type { Stores } from "../../store/ports.ts";
import { createPostgresStores } from "../postgres/index.ts";
import { PostgresJobStore } from "../postgres/jobs.ts";
import { PostgresResultStore } from "../postgres/results.ts";
import { startCheckpointer } from "../sqlite/checkpointer.ts";
import { createSqliteStores, openSqlite, type SqliteDb } from "../sqlite/index.ts";
import { sqliteJobStateCounts } from "../sqlite/job-state-counts.ts";
import { SqliteJobStore } from "../sqlite/jobs.ts";
import { DiskResultStore } from "./disk-results.ts";

export interface NodeDatabase {
  engine: "sqlite" | "postgres";
  stores: Stores;
  jobStore: JobStore;
  /** batch-job results (each item's audio) */
  jobResults: ResultStore;
  billing: BillingStores;
  /** the SQLite connection, for the SQLite-only operations metrics; null on Postgres */
  sqlite: SqliteDb | null;
  close(): Promise<void>;
}

export interface NodeDatabaseOptions {
  /** postgres://… or postgresql://…; unset: SQLite in `dataDir` */
  databaseUrl?: string | undefined;
  dataDir: string;
  sqliteSynchronous: "NORMAL" | "FULL";
  /** connections per replica (Postgres) */
  poolSize?: number;
  jobsRetentionMs: number;
  log(line: string): void;
}

export async function openNodeDatabase(options: NodeDatabaseOptions): Promise<NodeDatabase> {
  const retentionMs = options.jobsRetentionMs;
  if (options.databaseUrl) {
    // The migration is applied on start (under an advisory lock: replicas starting together take turns).
    const db = await openPostgres(options.databaseUrl, { max: options.poolSize ?? 10 });
    // No releaseAllLeases here: other replicas may hold leases; a dead replica's leases run out on their own.
    return {
      engine: "postgres",
      stores: createPostgresStores(db),
      jobStore: new PostgresJobStore(db, { retentionMs }),
      jobResults: new PostgresResultStore(db),
      billing: createSqlBillingStores(asSqlDb(db)),
      sqlite: null,
      close: () => closePostgres(db),
    };
  }
  const db = openSqlite(join(options.dataDir, "proxy.db"), { synchronous: options.sqliteSynchronous });
  const checkpointer = startCheckpointer(db, {
    onError: (message) => options.log(JSON.stringify({ component: "sqlite", level: "warn", msg: message })),
  });
  const jobStore = new SqliteJobStore(db, { retentionMs });
  // This process is the only worker of its SQLite file: leases of a previous run (killed mid-item) are released now
  // and those items run again (charged once: the ledger keys them by item).
  const released = await jobStore.releaseAllLeases();
  if (released > 0) options.log(`jobs: ${released} items of an earlier run are queued again`);
  const jobResults = new DiskResultStore(join(options.dataDir, "job-results"));
  await jobResults.clearTemporaries();
  return {
    engine: "sqlite",
    stores: createSqliteStores(db),
    // /metrics counts jobs and items by state with two aggregate queries instead of walking every job
    jobStore: withStateCounts(jobStore, sqliteJobStateCounts(db)),
    jobResults,
    billing: createSqlBillingStores(db),
    sqlite: db,
    close: async () => {
      await checkpointer.stop();
      db.$client.close();
    },
  };
}
