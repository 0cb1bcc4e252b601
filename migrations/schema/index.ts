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

export { apiKeys } from "./api-keys.ts";
export {
  billingInvoiceLines,
  billingInvoiceSyncs,
  billingStripePrices,
  billingStripeProducts,
  billingSubscriptions,
  billingUnpaidInvoices,
  billingWebhookEvents,
  INVOICE_SYNC_STATES,
  type InvoiceSyncState,
  STRIPE_PRICE_ROLES,
  type StripePriceRole,
  WEBHOOK_EVENT_STATES,
  type WebhookEventState,
} from "./billing.ts";
export { consoleSessionRevocations } from "./console-sessions.ts";
export { CUSTOMER_STATUSES, type CustomerStatus, customers } from "./customers.ts";
export {
  DEAD_LETTER_KINDS,
  DEAD_LETTER_RESOLUTIONS,
  type DeadLetterKind,
  type DeadLetterResolution,
  queueDeadLetters,
} from "./dead-letters.ts";
export { IDEMPOTENCY_STATUSES, type IdempotencyStatus, idempotencyKeys } from "./idempotency-keys.ts";
export {
  CALLBACK_STATES,
  type CallbackState,
  ENQUEUE_STATES,
  type EnqueueState,
  JOB_ITEM_STATES,
  type JobItemState,
  jobItems,
  jobs,
} from "./jobs.ts";
export { NODE_STATES, type NodeState, nodes, SHARED_POOL } from "./nodes.ts";
export { PLAN_KINDS, type PlanKind, plans } from "./plans.ts";
export { priceVersions } from "./price-versions.ts";
export { PRIORITIES, type Priority, USAGE_SOURCES, type UsageSource, usageEvents } from "./usage-events.ts";
export {
  usageDaily,
  usageDailyPlans,
  usageMonthlyCustomers,
  usageRollupState,
  usageTokenCounts,
} from "./usage-rollup.ts";
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
export type BillingInvoiceSyncRow = typeof billingInvoiceSyncs.$inferSelect;
export type BillingSubscriptionRow = typeof billingSubscriptions.$inferSelect;
export type BillingUnpaidInvoiceRow = typeof billingUnpaidInvoices.$inferSelect;
export type JobRow = typeof jobs.$inferSelect;
export type JobItemRow = typeof jobItems.$inferSelect;
export type ConsoleSessionRevocationRow = typeof consoleSessionRevocations.$inferSelect;
export type QueueDeadLetterRow = typeof queueDeadLetters.$inferSelect;
