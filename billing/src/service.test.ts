import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BillingError } from "./errors.ts";
import { BillingService } from "./service.ts";
import { addCustomer, createWorld, seedPlans, type World } from "./testing/world.ts";

describe("BillingService", () => {
  let w: World;
  const service = (stripe = true) =>
    new BillingService({
      customers: w.proxy.customers,
      plans: w.proxy.plans,
      billing: w.billing,
      stripe: stripe ? w.gateway : null,
      webhookSecret: stripe ? "whsec_x" : null,
      clock: w.clock,
      config: { settleMs: 15 * 60_000 },
    });

  beforeEach(async () => {
    w = await createWorld({ now: Date.UTC(2026, 0, 1) });
    await seedPlans(w.proxy.plans, { timeZone: "America/New_York" });
    await seedPlans(w.proxy.plans, { timeZone: "Asia/Tokyo", suffix: "_jp" });
    await addCustomer(w.proxy, "cus_ny", "basic");
    await addCustomer(w.proxy, "cus_tokyo", "basic_jp");
    await addCustomer(w.proxy, "cus_ent", "enterprise");
    await w.use("cus_ny", Date.parse("2026-01-05T20:00:00-05:00"), 10_000); // 200,000 micros
    await w.use("cus_tokyo", Date.parse("2026-01-05T20:00:00+09:00"), 10_000);
  });
  afterEach(async () => {
    await w.close();
  });

  it("the scheduled run invoices the previous month where it has closed (plus the settle delay), and only there", async () => {
    // 2026-02-01 03:00 UTC: January is over in Tokyo (since 15:00 UTC on the 31st), not yet in New York (05:00 UTC).
    w.clock.set(Date.UTC(2026, 1, 1, 3));
    const first = await service().runScheduled();
    expect(first.subscriptions).toHaveLength(1); // the enterprise customer's fee
    const states = (run: typeof first) =>
      Object.fromEntries(run.reports.flatMap((r) => r.customers.map((c) => [`${c.customer_id} ${r.period}`, c.state])));
    expect(states(first)).toMatchObject({ "cus_tokyo 2026-01": "reconciled", "cus_ny 2026-01": "not_closed" });
    w.clock.set(Date.UTC(2026, 1, 1, 5, 14)); // 00:14 in New York: within the 15 min settle delay
    expect(states(await service().runScheduled())).toMatchObject({ "cus_ny 2026-01": "not_closed" });
    w.clock.set(Date.UTC(2026, 1, 1, 5, 15));
    const later = await service().runScheduled();
    expect(states(later)).toMatchObject({ "cus_ny 2026-01": "reconciled", "cus_tokyo 2026-01": "reconciled" });
    const invoices = [...w.stripe.state.invoices.values()].filter((i) => i.metadata.period === "2026-01");
    expect(invoices.map((i) => [i.metadata.customer_id, i.total]).sort()).toEqual([
      ["cus_ny", 20],
      ["cus_tokyo", 20],
    ]);
    // Running again changes nothing in Stripe.
    const mutations = w.stripe.mutations().length;
    await service().runScheduled();
    expect(w.stripe.mutations().length).toBe(mutations);
  });

  it("lists a customer's recorded invoices of the periods asked, newest first, none of another customer", async () => {
    w.clock.set(Date.UTC(2026, 1, 1, 6));
    await service().runScheduled();
    const invoices = await service().invoices("cus_ny", ["2026-02", "2026-01", "2025-12"]);
    expect(invoices.map((i) => [i.customerId, i.period, i.billedMicros])).toEqual([["cus_ny", "2026-01", 200_000]]);
    expect(invoices[0]?.stripeInvoiceId).toMatch(/^in_/);
    expect(await service(false).invoices("cus_nobody", ["2026-01"])).toEqual([]);
  });

  it("without Stripe: clear BILLING_NOT_CONFIGURED errors, reports still readable, the scheduled run a no-op", async () => {
    const s = service(false);
    expect(s.stripeConfigured).toBe(false);
    const customer = await w.proxy.customers.getCustomer("cus_ny");
    if (!customer) throw new Error("no customer");
    await expect(s.portalSession(customer)).rejects.toMatchObject({ code: "BILLING_NOT_CONFIGURED", status: 501 });
    await expect(s.reconcile("2026-01")).rejects.toBeInstanceOf(BillingError);
    await expect(s.handleWebhook("{}", "t=1,v1=0")).rejects.toMatchObject({ code: "BILLING_NOT_CONFIGURED" });
    expect((await s.report("2026-01")).customers).toEqual([]);
    expect(await s.runScheduled()).toEqual({ suspended: [], reports: [], subscriptions: [] });
    await expect(s.report("January")).rejects.toMatchObject({ code: "INVALID_REQUEST" });
  });

  it("Stripe failures surface as BILLING_UNAVAILABLE, not as crashes", async () => {
    const customer = await w.proxy.customers.getCustomer("cus_ny");
    if (!customer) throw new Error("no customer");
    w.stripe.injectFault("GET", /^\/v1\/customers\/search$/, { times: 1, beforeWork: true });
    await expect(service().portalSession(customer)).rejects.toMatchObject({ code: "BILLING_UNAVAILABLE", status: 502 });
    expect((await service().portalSession(customer)).url).toMatch(/\/p\/session\//);
  });
});
