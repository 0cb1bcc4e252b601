/**
 * Test support for the store contract suites: a clock tests can move, and a seeded world (plan, price, customer, key)
 * to hang usage on. Web-standard, so the same suites can run under a Workers test pool later.
 */
import type { Clock, Customer, IssuedKey, Plan, PriceVersion, Stores, UsageEvent } from "../ports.ts";

export { ManualClock } from "../../../../domain/testing/manual-clock.ts";

export interface StoreHarness {
  stores: Stores;
  close?(): void | Promise<void>;
}

/** Builds a fresh, empty set of stores that read time from `clock`. Called once per test. */
export type MakeStores = (clock: Clock) => StoreHarness | Promise<StoreHarness>;

export interface ContractOptions {
  /** Shown in test names: "memory", "sqlite". */
  name: string;
  make: MakeStores;
}

export interface Seeded {
  plan: Plan;
  version: PriceVersion;
  customer: Customer;
  key: IssuedKey;
}

function unwrap<T>(result: { ok: true; value: T } | { ok: false; error: string; message: string }): T {
  if (!result.ok) throw new Error(`seeding failed: ${result.error}: ${result.message}`);
  return result.value;
}

/** A plan (in `timeZone`), one price version effective now, a customer on it and one key. */
export async function seedCustomer(
  stores: Stores,
  clock: Clock,
  options: { planId?: string; customerId?: string; currency?: string; timeZone?: string } = {},
): Promise<Seeded> {
  const { planId = "basic", customerId = "cus_a", currency = "USD", timeZone = "UTC" } = options;
  const plan =
    (await stores.plans.getPlan(planId)) ??
    unwrap(
      await stores.plans.upsertPlan({
        id: planId,
        kind: "basic",
        name: `Plan ${planId}`,
        currency,
        timeZone,
        requestsPerSecond: 10,
        burst: 20,
        maxInFlight: 4,
      }),
    );
  const version =
    (await stores.plans.versionAt(planId, clock.now())) ??
    unwrap(await stores.plans.addPriceVersion(planId, { unitPriceMicrosPer1kTokens: 2_000 }));
  const customer = unwrap(
    await stores.customers.createCustomer({ id: customerId, name: "Acme", email: "ops@acme.test", planId }),
  );
  const key = unwrap(await stores.keys.issueKey(customer.id, "default"));
  return { plan, version, customer, key };
}

/** A valid usage event of the seeded customer; override what the test is about. */
export function usageEvent(seed: Seeded, overrides: Partial<UsageEvent> & { requestId: string }): UsageEvent {
  return {
    customerId: seed.customer.id,
    apiKeyId: seed.key.id,
    planId: seed.plan.id,
    priceVersionId: seed.version.id,
    occurredAt: seed.version.effectiveFrom,
    audioMs: 1_000,
    tokens: 25,
    inputChars: 12,
    peak: false,
    multiplierBp: 10_000,
    amountMicros: 50,
    currency: seed.plan.currency,
    nodeId: null,
    priority: "interactive",
    ...overrides,
  };
}
