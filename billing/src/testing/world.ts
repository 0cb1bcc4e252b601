/**
 * A billing test world: a real SQLite database (migrated), the proxy's stores and billing's over it, the local
 * Stripe test server with the official SDK pointed at it, and helpers that meter usage the way the proxy does
 * (version in force at the event's time, `rateUsage`).
 */

import { createSqliteStores } from "../../../proxy/src/adapters/sqlite/index.ts";
import type { Clock, NewPriceVersion, PlanStore, Stores, UsageEvent } from "../../../proxy/src/store/ports.ts";
import { ManualClock } from "../../../proxy/src/store/testing/harness.ts";
import { closeSqlite, openSqlite } from "../../../storage/sqlite/open.ts";
import { type RunningStripeTestServer, startStripeTestServer } from "../../testing/stripe-server/index.ts";
import { rateUsage } from "../rating/rate.ts";
import { Reconciler, type ReconcilerConfig } from "../reconcile/reconciler.ts";
import type { BillingStores } from "../store/ports.ts";
import { createSqlBillingStores } from "../store/sql/index.ts";
import type { StripeGateway } from "../stripe/port.ts";
import { SdkStripeGateway } from "../stripe/sdk-gateway.ts";

export const WEEKDAY_PEAK = [{ days: [1, 2, 3, 4, 5], start: "09:00", end: "18:00" }];

export interface World {
  clock: ManualClock;
  proxy: Stores;
  billing: BillingStores;
  stripe: RunningStripeTestServer;
  gateway: StripeGateway;
  reconciler(options?: {
    gateway?: StripeGateway;
    billing?: BillingStores;
    config?: Partial<ReconcilerConfig>;
  }): Reconciler;
  /** Rates and commits one usage event of a customer at `at` (tokens), as the proxy's meter does. */
  use(customerId: string, at: number, tokens: number): Promise<UsageEvent>;
  close(): Promise<void>;
}

let seq = 0;

export async function createWorld(options: { now?: number } = {}): Promise<World> {
  const clock = new ManualClock(options.now ?? Date.UTC(2026, 0, 1));
  const db = openSqlite(":memory:");
  const proxy = createSqliteStores(db, { clock });
  const billing = createSqlBillingStores(db, { clock });
  const stripe = await startStripeTestServer({ now: () => clock.now() });
  const gateway = new SdkStripeGateway(stripe.client());
  const keyIds = new Map<string, string>();

  const world: World = {
    clock,
    proxy,
    billing,
    stripe,
    gateway,
    reconciler: (o = {}) =>
      new Reconciler({
        customers: proxy.customers,
        plans: proxy.plans,
        billing: o.billing ?? billing,
        stripe: o.gateway ?? gateway,
        clock,
        config: { settleMs: 0, ...o.config },
      }),
    async use(customerId, at, tokens) {
      const customer = await proxy.customers.getCustomer(customerId);
      if (!customer) throw new Error(`no customer ${customerId}`);
      const plan = await proxy.plans.getPlan(customer.planId);
      const version = plan ? await proxy.plans.versionAt(plan.id, at) : null;
      if (!plan || !version) throw new Error(`no price in force for ${customerId} at ${at}`);
      let keyId = keyIds.get(customerId);
      if (!keyId) {
        const issued = await proxy.keys.issueKey(customerId);
        if (!issued.ok) throw new Error("cannot issue key");
        keyId = issued.value.id;
        keyIds.set(customerId, keyId);
      }
      const rated = rateUsage({
        tokens,
        plan: plan.kind,
        atMs: at,
        version: {
          unitPriceMicrosPer1k: version.unitPriceMicrosPer1kTokens,
          peakMultiplierBp: version.peakMultiplierBp,
          batchDiscountBp: version.batchDiscountBp,
          peakWindows: version.peakWindows,
          timeZone: plan.timeZone,
        },
      });
      const event: UsageEvent = {
        requestId: `req_${++seq}`,
        customerId,
        apiKeyId: keyId,
        planId: plan.id,
        priceVersionId: version.id,
        occurredAt: at,
        audioMs: tokens * 20,
        tokens,
        inputChars: tokens,
        peak: rated.peak,
        multiplierBp: rated.multiplierBp,
        amountMicros: rated.amountMicros,
        currency: plan.currency,
        nodeId: null,
        priority: plan.kind === "batch" ? "batch" : "interactive",
      };
      await proxy.ledger.append([event]);
      return event;
    },
    async close() {
      await stripe.close();
      closeSqlite(db);
    },
  };
  return world;
}

/** Plans basic / batch / enterprise (and any extra) with a first version effective at the clock's now. */
export async function seedPlans(
  plans: PlanStore,
  options: { currency?: string; timeZone?: string; suffix?: string; prices?: Partial<NewPriceVersion> } = {},
): Promise<void> {
  const { currency = "USD", timeZone = "Asia/Shanghai", suffix = "" } = options;
  const kinds = [
    { id: `basic${suffix}`, kind: "basic", name: "Basic" },
    { id: `batch${suffix}`, kind: "batch", name: "Batch" },
    { id: `enterprise${suffix}`, kind: "enterprise", name: "Enterprise" },
  ] as const;
  for (const p of kinds) {
    const r = await plans.upsertPlan({
      id: p.id,
      kind: p.kind,
      name: p.name,
      currency,
      timeZone,
      requestsPerSecond: 10,
      burst: 20,
      maxInFlight: 4,
    });
    if (!r.ok) throw new Error(r.message);
    const v = await plans.addPriceVersion(p.id, {
      unitPriceMicrosPer1kTokens: 20_000,
      peakWindows: WEEKDAY_PEAK,
      peakMultiplierBp: 15_000,
      batchDiscountBp: 3_500,
      monthlyFeeMicros: p.kind === "enterprise" ? 2_000_000_000 : 0,
      includedTokens: p.kind === "enterprise" ? 1_000_000 : 0,
      overagePriceMicrosPer1kTokens: p.kind === "enterprise" ? 10_000 : null,
      ...options.prices,
    });
    if (!v.ok) throw new Error(v.message);
  }
}

export async function addCustomer(proxy: Stores, id: string, planId: string): Promise<void> {
  const r = await proxy.customers.createCustomer({ id, name: `Customer ${id}`, email: `${id}@example.test`, planId });
  if (!r.ok) throw new Error(r.message);
}

export type { Clock };
