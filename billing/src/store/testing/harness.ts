/**
 * Test support for billing's contract suites. A harness is one fresh database: the proxy's stores (customers, plans
 * and the ledger that billing tables point at) and billing's stores over the same data. Web-standard, so a Workers
 * pool can run the same suites against D1.
 */
import type { Clock, Stores, UsageEvent } from "../../../../proxy/src/store/ports.ts";
import type { BillingStores } from "../ports.ts";

export { ManualClock } from "../../../../domain/testing/manual-clock.ts";

export interface BillingHarness {
  proxy: Stores;
  billing: BillingStores;
  /** Commits usage events so that `billing.usage` sees them (through the proxy's ledger where there is one). */
  addUsage(events: readonly UsageEvent[]): Promise<void>;
  close?(): void | Promise<void>;
}

export interface BillingContractOptions {
  /** Shown in test names: "memory", "sqlite", "d1". */
  name: string;
  make(clock: Clock): BillingHarness | Promise<BillingHarness>;
}

/** Two plans (basic, enterprise) with a version each, and customers cus_a, cus_b on basic. */
export async function seedBilling(h: BillingHarness) {
  const plan = (id: string, kind: "basic" | "enterprise") =>
    h.proxy.plans.upsertPlan({
      id,
      kind,
      name: id,
      currency: "USD",
      timeZone: "UTC",
      requestsPerSecond: 5,
      burst: 10,
      maxInFlight: 2,
    });
  await plan("basic", "basic");
  await plan("enterprise", "enterprise");
  const basic = await h.proxy.plans.addPriceVersion("basic", { unitPriceMicrosPer1kTokens: 20_000 });
  const ent = await h.proxy.plans.addPriceVersion("enterprise", {
    unitPriceMicrosPer1kTokens: 0,
    monthlyFeeMicros: 1_000_000_000,
    includedTokens: 1_000,
    overagePriceMicrosPer1kTokens: 10_000,
  });
  if (!basic.ok || !ent.ok) throw new Error("seeding prices failed");
  const customers = [];
  for (const id of ["cus_a", "cus_b"]) {
    const c = await h.proxy.customers.createCustomer({ id, name: id, email: `${id}@x.test`, planId: "basic" });
    if (!c.ok) throw new Error(`seeding ${id} failed`);
    customers.push(c.value);
  }
  const keyA = await h.proxy.keys.issueKey("cus_a");
  const keyB = await h.proxy.keys.issueKey("cus_b");
  if (!keyA.ok || !keyB.ok) throw new Error("seeding keys failed");
  return { basic: basic.value, enterprise: ent.value, customers, keys: { cus_a: keyA.value.id, cus_b: keyB.value.id } };
}
