import { runConsoleSessionStoreContract } from "./console-sessions.contract.ts";
import { runCustomerStoreContract } from "./customers.contract.ts";
import { runIdempotencyStoreContract } from "./idempotency.contract.ts";
import { runKeyStoreContract } from "./keys.contract.ts";
import { runNodeStoreContract } from "./nodes.contract.ts";
import { runPlanStoreContract } from "./plans.contract.ts";
import type { ContractOptions } from "./testing/harness.ts";
import { runUsageLedgerContract } from "./usage-ledger.contract.ts";
import { runUsageReportsContract } from "./usage-reports.contract.ts";

export { runConsoleSessionStoreContract } from "./console-sessions.contract.ts";
export { runCustomerStoreContract } from "./customers.contract.ts";
export { runIdempotencyStoreContract } from "./idempotency.contract.ts";
export { runKeyStoreContract } from "./keys.contract.ts";
export { runNodeStoreContract } from "./nodes.contract.ts";
export { runPlanStoreContract } from "./plans.contract.ts";
export { runUsageLedgerContract } from "./usage-ledger.contract.ts";
export { runUsageReportsContract } from "./usage-reports.contract.ts";

/**
 * Every store contract against one implementation (Hono's common.case.test pattern). `reports: false` for an engine
 * without the usage rollups (none today: memory, SQLite, D1 and Postgres all have them).
 */
export function runStoreContracts(options: ContractOptions & { reports?: boolean }): void {
  runCustomerStoreContract(options);
  runKeyStoreContract(options);
  runPlanStoreContract(options);
  runUsageLedgerContract(options);
  if (options.reports !== false) runUsageReportsContract(options);
  runIdempotencyStoreContract(options);
  runNodeStoreContract(options);
  runConsoleSessionStoreContract(options);
}
