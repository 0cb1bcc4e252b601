import { type Clock, systemClock } from "../../../../domain/records.ts";
import type { SqliteDb } from "../../../../storage/sqlite/open.ts";
import type { BillingStores } from "../ports.ts";
import { SqliteStripeCatalogStore } from "./catalog.ts";
import { SqliteDunningStore } from "./dunning.ts";
import { SqliteInvoiceSyncStore } from "./invoice-syncs.ts";
import { SqliteUsageSource } from "./usage-source.ts";
import { SqliteWebhookEventStore } from "./webhook-events.ts";

export { SqliteStripeCatalogStore } from "./catalog.ts";
export { SqliteDunningStore } from "./dunning.ts";
export { SqliteInvoiceSyncStore } from "./invoice-syncs.ts";
export { SqliteUsageSource } from "./usage-source.ts";
export { SqliteWebhookEventStore } from "./webhook-events.ts";

/**
 * For a connection that mostly reads the whole ledger (the `billing:reconcile` CLI): memory-map the file and keep a
 * large page cache, so a period's scan reads pages from memory instead of one `pread` per page. Per connection.
 */
export function tuneForBulkReads(db: SqliteDb, options: { mmapBytes?: number; cacheKiB?: number } = {}): void {
  db.$client.pragma(`mmap_size = ${Math.trunc(options.mmapBytes ?? 2 ** 30)}`);
  db.$client.pragma(`cache_size = -${Math.trunc(options.cacheKiB ?? 262_144)}`);
}

/**
 * Billing's stores over the proxy's SQLite connection (the same file: billing reads the ledger and writes its own
 * tables).
 *
 * @example
 * const db = openSqlite("data/proxy.db");
 * const billingStores = createSqliteBillingStores(db);
 */
export function createSqliteBillingStores(db: SqliteDb, options: { clock?: Clock } = {}): BillingStores {
  const clock = options.clock ?? systemClock;
  return {
    usage: new SqliteUsageSource(db),
    syncs: new SqliteInvoiceSyncStore(db, clock),
    catalog: new SqliteStripeCatalogStore(db, clock),
    webhooks: new SqliteWebhookEventStore(db, clock),
    dunning: new SqliteDunningStore(db, clock),
  };
}
