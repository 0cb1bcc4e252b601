import type { Stores } from "./store/ports.ts";

/**
 * Default plans and prices (integer micro-units of USD per 1,000 tokens; 1,000 tokens = 20 s of audio), created
 * when a database has no plans. Admins change them through the admin API (new price versions).
 */
export async function ensureDefaultPlans(stores: Stores, timeZone = "UTC"): Promise<void> {
  if ((await stores.plans.listPlans()).length > 0) return;
  const peakWindows = [{ days: [1, 2, 3, 4, 5], start: "09:00", end: "18:00" }];
  const plans = [
    { id: "basic", kind: "basic", name: "Basic (interactive)", rps: 5, burst: 10, inFlight: 4 },
    { id: "batch", kind: "batch", name: "Batch (queued, offline)", rps: 20, burst: 40, inFlight: 16 },
    { id: "enterprise", kind: "enterprise", name: "Enterprise (dedicated GPU)", rps: 50, burst: 100, inFlight: 64 },
  ] as const;
  for (const p of plans) {
    const r = await stores.plans.upsertPlan({
      id: p.id,
      kind: p.kind,
      name: p.name,
      currency: "USD",
      timeZone,
      requestsPerSecond: p.rps,
      burst: p.burst,
      maxInFlight: p.inFlight,
    });
    if (!r.ok) throw new Error(`cannot create plan ${p.id}: ${r.message}`);
    // Replicas starting together on one database both find no plans: the first to price a plan prices it.
    if ((await stores.plans.listVersions(p.id)).length > 0) continue;
    const version = await stores.plans.addPriceVersion(p.id, {
      unitPriceMicrosPer1kTokens: 20_000,
      peakWindows,
      peakMultiplierBp: 15_000,
      batchDiscountBp: 3_500,
      monthlyFeeMicros: p.kind === "enterprise" ? 2_000_000_000 : 0,
      includedTokens: p.kind === "enterprise" ? 100_000_000 : 0,
      overagePriceMicrosPer1kTokens: p.kind === "enterprise" ? 10_000 : null,
    });
    if (!version.ok && (await stores.plans.listVersions(p.id)).length > 0) continue; // priced meanwhile
    if (!version.ok) throw new Error(`cannot price plan ${p.id}: ${version.message}`);
  }
}

/** The demo customer of a fresh installation and its key (shown once). Null when it exists already. */
export async function ensureDemoCustomer(
  stores: Stores,
  id: string,
  planId: string,
): Promise<{ customerId: string; key: string } | null> {
  if (await stores.customers.getCustomer(id)) return null;
  const customer = await stores.customers.createCustomer({
    id,
    name: `Demo (${planId})`,
    email: "demo@example.com",
    planId,
  });
  // Another replica starting at the same moment created it first: it shows the key.
  if (!customer.ok && customer.error === "id_taken") return null;
  if (!customer.ok) throw new Error(`cannot create the demo customer: ${customer.message}`);
  const key = await stores.keys.issueKey(id, "demo");
  if (!key.ok) throw new Error("cannot issue the demo key");
  return { customerId: id, key: key.value.key };
}
