import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BillingService } from "../../../../billing/src/service.ts";
import { addCustomer, createWorld, seedPlans, type World } from "../../../../billing/src/testing/world.ts";
import { createInProcessProxy } from "../../testing/stack.ts";
import { ConsoleClient } from "../testing/browserless.ts";

/** The customer billing page over a real billing world (SQLite, the local Stripe test server): plan, invoices. */
describe("customer console: billing", () => {
  let w: World;
  let proxy: Awaited<ReturnType<typeof createInProcessProxy>>;
  let key = "";

  beforeAll(async () => {
    w = await createWorld({ now: Date.UTC(2026, 0, 1) });
    await seedPlans(w.proxy.plans, { timeZone: "UTC" });
    await addCustomer(w.proxy, "cus_bill", "basic");
    await addCustomer(w.proxy, "cus_other", "basic");
    await w.use("cus_bill", Date.UTC(2026, 0, 5, 20), 10_000);
    await w.use("cus_other", Date.UTC(2026, 0, 6, 20), 20_000);
    w.clock.set(Date.UTC(2026, 1, 1, 6));
    const billing = new BillingService({
      customers: w.proxy.customers,
      plans: w.proxy.plans,
      billing: w.billing,
      stripe: w.gateway,
      webhookSecret: "whsec_x",
      clock: w.clock,
      config: { settleMs: 0 },
    });
    await billing.runScheduled();
    proxy = await createInProcessProxy({ stores: w.proxy });
    proxy.deps.now = () => w.clock.now();
    proxy.deps.billing = billing;
    const issued = await w.proxy.keys.issueKey("cus_bill", "console");
    if (!issued.ok) throw new Error(issued.message);
    key = issued.value.key;
  });
  afterAll(async () => {
    await proxy?.close();
    await w?.close();
  });

  it("lists the customer's own invoice from the billing store, and offers the Stripe portal", async () => {
    const client = new ConsoleClient(proxy.request);
    expect((await client.signIn("/console", key)).status).toBe(303);
    const html = await (await client.get("/console/billing")).text();
    const own = await w.billing.syncs.get("cus_bill", "2026-01");
    const other = await w.billing.syncs.get("cus_other", "2026-01");
    expect(own?.stripeInvoiceId).toMatch(/^in_/);
    expect(html).toContain("<td>2026-01</td>");
    expect(html).toContain(own?.stripeInvoiceNumber ?? own?.stripeInvoiceId ?? "?");
    expect(html).toContain("10,000");
    expect(html).not.toContain(other?.stripeInvoiceId ?? "?");
    expect(html).toContain("Open the billing portal");
    const portal = await client.post("/console/billing/portal", { _csrf: ConsoleClient.csrf(html) });
    expect(portal.status).toBe(303);
    expect(portal.headers.get("location")).toMatch(/^https?:\/\//);
  });
});
