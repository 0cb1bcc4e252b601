import Stripe from "stripe";
import { createBillingService, parseBillingEnv } from "../../../../billing/src/config.ts";
import type { BillingService } from "../../../../billing/src/service.ts";
import { createSqlBillingStores } from "../../../../billing/src/store/sql/index.ts";
import { type Stores, systemClock } from "../../store/ports.ts";
import type { D1Db } from "./d1/index.ts";
import { BadEnvironmentError, log, type WorkerBindings } from "./env.ts";

/**
 * Billing on the Worker: the same BillingService as the Node entry, over D1 (billing's tables beside the ledger) and
 * the Stripe SDK on `fetch`. STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET (secrets) and the BILLING_* vars configure it;
 * without them its routes answer 501 BILLING_NOT_CONFIGURED, as on Node.
 */
export function createEdgeBilling(
  env: WorkerBindings,
  db: D1Db,
  stores: Pick<Stores, "customers" | "plans">,
): BillingService {
  let billingEnv: ReturnType<typeof parseBillingEnv>;
  try {
    billingEnv = parseBillingEnv(env as unknown as Record<string, string | undefined>);
  } catch (e) {
    throw new BadEnvironmentError(e instanceof Error ? e.message : String(e));
  }
  return createBillingService(
    billingEnv,
    {
      customers: stores.customers,
      plans: stores.plans,
      billing: createSqlBillingStores(db),
      clock: systemClock,
      log: (line) => log({ component: "billing", ...line }),
    },
    { httpClient: Stripe.createFetchHttpClient() },
  );
}
