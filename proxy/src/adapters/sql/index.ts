import type { SqlDb } from "../../../../storage/sql-db.ts";
import { type Clock, type Stores, systemClock, type UsageLedger } from "../../store/ports.ts";
import { SqlConsoleSessionStore } from "./console-sessions.ts";
import { SqlCustomerStore } from "./customers.ts";
import { SqlIdempotencyStore } from "./idempotency.ts";
import { SqlKeyStore } from "./keys.ts";
import { SqlNodeStore } from "./nodes.ts";
import { SqlPlanStore } from "./plans.ts";
import { type CommittedCeiling, type RunAtomically, SqlUsageReports } from "./usage-reports.ts";

/**
 * Every store over one SQL database: the same code on each engine, but for the ledger, whose append (the hot path)
 * each engine brings (`SqliteUsageLedger`, `D1UsageLedger`).
 */
export function createSqlStores(
  db: SqlDb,
  ledger: UsageLedger,
  options: { clock?: Clock; runAtomically: RunAtomically; committedCeiling?: CommittedCeiling },
): Stores {
  const clock = options.clock ?? systemClock;
  return {
    customers: new SqlCustomerStore(db, clock),
    keys: new SqlKeyStore(db, clock),
    plans: new SqlPlanStore(db, clock),
    ledger,
    idempotency: new SqlIdempotencyStore(db, clock),
    nodes: new SqlNodeStore(db, clock),
    consoleSessions: new SqlConsoleSessionStore(db, clock),
    reports: new SqlUsageReports(db, options.runAtomically, {
      ...(options.committedCeiling ? { committedCeiling: options.committedCeiling } : {}),
    }),
  };
}
