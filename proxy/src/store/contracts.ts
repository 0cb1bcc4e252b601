import { runCustomerStoreContract } from "./customers.contract.ts";
import { runIdempotencyStoreContract } from "./idempotency.contract.ts";
import { runKeyStoreContract } from "./keys.contract.ts";
import { runNodeStoreContract } from "./nodes.contract.ts";
import { runPlanStoreContract } from "./plans.contract.ts";
import type { ContractOptions } from "./testing/harness.ts";
import { runUsageLedgerContract } from "./usage-ledger.contract.ts";
import { runUsageReportsContract } from "./usage-reports.contract.ts";

export { runCustomerStoreContract } from "./customers.contract.ts";
export { runIdempotencyStoreContract } from "./idempotency.contract.ts";
export { runKeyStoreContract } from "./keys.contract.ts";
export { runNodeStoreContract } from "./nodes.contract.ts";
export { runPlanStoreContract } from "./plans.contract.ts";
export { runUsageLedgerContract } from "./usage-ledger.contract.ts";
export { runUsageReportsContract } from "./usage-reports.contract.ts";

/** Every store contract against one implementation (Hono's common.case.test pattern). */
export function runStoreContracts(options: ContractOptions): void {
  runCustomerStoreContract(options);
  runKeyStoreContract(options);
  runPlanStoreContract(options);
  runUsageLedgerContract(options);
  runUsageReportsContract(options);
  runIdempotencyStoreContract(options);
  runNodeStoreContract(options);
}
