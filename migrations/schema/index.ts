/**
 * The one schema of the product, shared by the proxy (better-sqlite3 now, D1 later) and billing. drizzle-kit
 * generates `migrations/sql/` from it (`npm run db:generate`); never edit the SQL by hand.
 */
import { apiKeys } from "./api-keys.ts";
import {
  billingInvoiceLines,
  billingInvoiceSyncs,
  billingStripePrices,
  billingStripeProducts,
  billingSubscriptions,
  billingUnpaidInvoices,
  billingWebhookEvents,
} from "./billing.ts";
import { consoleSessionRevocations } from "./console-sessions.ts";
import { customers } from "./customers.ts";
import { queueDeadLetters } from "./dead-letters.ts";
import { idempotencyKeys } from "./idempotency-keys.ts";
import { jobItems, jobs } from "./jobs.ts";
import { nodes } from "./nodes.ts";
import { plans } from "./plans.ts";
import { priceVersions } from "./price-versions.ts";
import { usageEvents } from "./usage-events.ts";
import {
  usageDaily,
  usageDailyPlans,
  usageMonthlyCustomers,
  usageRollupState,
  usageTokenCounts,
} from "./usage-rollup.ts";

// Every table and its value lists, as each file declares them.
export * from "./api-keys.ts";
export * from "./billing.ts";
export * from "./console-sessions.ts";
export * from "./customers.ts";
export * from "./dead-letters.ts";
export * from "./idempotency-keys.ts";
export * from "./jobs.ts";
export * from "./nodes.ts";
export * from "./plans.ts";
export * from "./price-versions.ts";
export * from "./usage-events.ts";
export * from "./usage-rollup.ts";
export type { PeakWindow } from "./util.ts";

export const schema = {
  plans,
  customers,
  apiKeys,
  priceVersions,
  usageEvents,
  usageDaily,
  usageDailyPlans,
  usageMonthlyCustomers,
  usageTokenCounts,
  usageRollupState,
  idempotencyKeys,
  nodes,
  billingInvoiceSyncs,
  billingInvoiceLines,
  billingStripeProducts,
  billingStripePrices,
  billingSubscriptions,
  billingWebhookEvents,
  billingUnpaidInvoices,
  jobs,
  jobItems,
  queueDeadLetters,
  consoleSessionRevocations,
};
export type Schema = typeof schema;

export type PlanRow = typeof plans.$inferSelect;
export type CustomerRow = typeof customers.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type PriceVersionRow = typeof priceVersions.$inferSelect;
export type UsageEventRow = typeof usageEvents.$inferSelect;
export type IdempotencyKeyRow = typeof idempotencyKeys.$inferSelect;
export type NodeRow = typeof nodes.$inferSelect;
export type ConsoleSessionRevocationRow = typeof consoleSessionRevocations.$inferSelect;
export type BillingInvoiceSyncRow = typeof billingInvoiceSyncs.$inferSelect;
export type BillingSubscriptionRow = typeof billingSubscriptions.$inferSelect;
export type BillingUnpaidInvoiceRow = typeof billingUnpaidInvoices.$inferSelect;
export type JobRow = typeof jobs.$inferSelect;
export type JobItemRow = typeof jobItems.$inferSelect;
export type QueueDeadLetterRow = typeof queueDeadLetters.$inferSelect;
