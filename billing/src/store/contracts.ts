import { runStripeCatalogStoreContract } from "./catalog.contract.ts";
import { runDunningStoreContract } from "./dunning.contract.ts";
import { runInvoiceSyncStoreContract } from "./invoice-sync.contract.ts";
import type { BillingContractOptions } from "./testing/harness.ts";
import { runUsageSourceContract } from "./usage-source.contract.ts";
import { runWebhookEventStoreContract } from "./webhook-events.contract.ts";

export { runStripeCatalogStoreContract } from "./catalog.contract.ts";
export { runDunningStoreContract } from "./dunning.contract.ts";
export { runInvoiceSyncStoreContract } from "./invoice-sync.contract.ts";
export type { BillingContractOptions, BillingHarness } from "./testing/harness.ts";
export { runUsageSourceContract } from "./usage-source.contract.ts";
export { runWebhookEventStoreContract } from "./webhook-events.contract.ts";

/** Every billing store contract against one implementation (memory, SQLite, D1). */
export function runBillingStoreContracts(options: BillingContractOptions): void {
  runUsageSourceContract(options);
  runInvoiceSyncStoreContract(options);
  runStripeCatalogStoreContract(options);
  runWebhookEventStoreContract(options);
  runDunningStoreContract(options);
}
