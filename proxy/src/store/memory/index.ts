import { type Clock, type Stores, systemClock } from "../ports.ts";
import { InMemoryConsoleSessionStore } from "./console-sessions.ts";
import { InMemoryCustomerStore } from "./customers.ts";
import { InMemoryIdempotencyStore } from "./idempotency.ts";
import { InMemoryKeyStore } from "./keys.ts";
import { InMemoryNodeStore } from "./nodes.ts";
import { InMemoryPlanStore } from "./plans.ts";
import { createMemoryState } from "./state.ts";
import { InMemoryUsageLedger } from "./usage-ledger.ts";
import { InMemoryUsageReports } from "./usage-reports.ts";

export { InMemoryCustomerStore } from "./customers.ts";
export { InMemoryIdempotencyStore } from "./idempotency.ts";
export { InMemoryKeyStore } from "./keys.ts";
export { InMemoryNodeStore } from "./nodes.ts";
export { InMemoryPlanStore } from "./plans.ts";
export { InMemoryUsageLedger } from "./usage-ledger.ts";

/**
 * Every store over one in-memory database, for tests and single-process development. Nothing survives the process.
 *
 * @example
 * const stores = createMemoryStores();
 * await stores.plans.upsertPlan({ id: "basic", kind: "basic", name: "Basic", currency: "USD", timeZone: "UTC",
 *   requestsPerSecond: 10, burst: 20, maxInFlight: 4 });
 */
export function createMemoryStores(options: { clock?: Clock } = {}): Stores {
  const state = createMemoryState(options.clock ?? systemClock);
  return {
    customers: new InMemoryCustomerStore(state),
    keys: new InMemoryKeyStore(state),
    plans: new InMemoryPlanStore(state),
    ledger: new InMemoryUsageLedger(state),
    idempotency: new InMemoryIdempotencyStore(state),
    nodes: new InMemoryNodeStore(state),
    reports: new InMemoryUsageReports(state),
    consoleSessions: new InMemoryConsoleSessionStore(options.clock ?? systemClock),
  };
}
