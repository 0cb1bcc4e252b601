import { type Clock, systemClock } from "../../../../domain/records.ts";
import type { D1Db } from "../../../../storage/d1/db.ts";
import type { BillingStores } from "../ports.ts";
import { D1StripeCatalogStore } from "./catalog.ts";
import { D1DunningStore } from "./dunning.ts";
import { D1InvoiceSyncStore } from "./invoice-syncs.ts";
import { D1UsageSource } from "./usage-source.ts";
import { D1WebhookEventStore } from "./webhook-events.ts";

/**
 * Billing's stores over the proxy's D1 database (billing reads the ledger and writes its own tables in it).
 *
 * @example
 * const billingStores = createD1BillingStores(openD1(env.DB));
 */
export function createD1BillingStores(db: D1Db, options: { clock?: Clock } = {}): BillingStores {
  const clock = options.clock ?? systemClock;
  return {
    usage: new D1UsageSource(db),
    syncs: new D1InvoiceSyncStore(db, clock),
    catalog: new D1StripeCatalogStore(db, clock),
    webhooks: new D1WebhookEventStore(db, clock),
    dunning: new D1DunningStore(db, clock),
  };
}
