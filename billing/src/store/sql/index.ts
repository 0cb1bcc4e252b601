import { type Clock, systemClock } from "../../../../domain/records.ts";
import type { SqlDb } from "../../../../storage/sql-db.ts";
import type { BillingStores } from "../ports.ts";
import { SqlStripeCatalogStore } from "./catalog.ts";
import { SqlDunningStore } from "./dunning.ts";
import { SqlInvoiceSyncStore } from "./invoice-syncs.ts";
import { SqlUsageSource } from "./usage-source.ts";
import { SqlWebhookEventStore } from "./webhook-events.ts";

/**
 * Billing's stores over the proxy's database (billing reads the ledger and writes its own tables in it): the same
 * code on SQLite (Node) and D1 (Workers).
 *
 * @example
 * const billingStores = createSqlBillingStores(openSqlite("data/proxy.db")); // or openD1(env.DB)
 */
export function createSqlBillingStores(db: SqlDb, options: { clock?: Clock } = {}): BillingStores {
  const clock = options.clock ?? systemClock;
  return {
    usage: new SqlUsageSource(db),
    syncs: new SqlInvoiceSyncStore(db, clock),
    catalog: new SqlStripeCatalogStore(db, clock),
    webhooks: new SqlWebhookEventStore(db, clock),
    dunning: new SqlDunningStore(db, clock),
  };
}
