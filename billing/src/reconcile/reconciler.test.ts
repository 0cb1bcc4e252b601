import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Period, parsePeriod } from "../period.ts";
import { addCustomer, createWorld, seedPlans, type World } from "../testing/world.ts";

const JAN = parsePeriod("2026-01") as Period;
const FEB = parsePeriod("2026-02") as Period;
/** Shanghai wall time as UTC ms (UTC+8, no DST). */
const sh = (iso: string) => Date.parse(`${iso}+08:00`);

describe("Reconciler: the ledger into one finalised Stripe invoice per customer and period", () => {
  let w: World;

  beforeEach(async () => {
    w = await createWorld({ now: Date.UTC(2026, 0, 1) });
    await seedPlans(w.proxy.plans);
    await addCustomer(w.proxy, "cus_basic", "basic");
    await addCustomer(w.proxy, "cus_batch", "batch");
    await addCustomer(w.proxy, "cus_ent", "enterprise");
  });
  afterEach(async () => {
    await w.close();
  });

  async function januaryUsage() {
    await w.use("cus_basic", sh("2026-01-05T10:00:00"), 1_234); // Monday, peak: 1,234 × 20,000 × 1.5 / 1000 = 37,020
    await w.use("cus_basic", sh("2026-01-05T20:00:00"), 5_000); // off-peak: 100,000
    await w.use("cus_basic", sh("2026-01-10T10:00:00"), 777); // Saturday, off-peak: 15,540
    await w.use("cus_batch", sh("2026-01-06T11:00:00"), 10_000); // batch at peak, no surcharge: 130,000
    await w.use("cus_ent", sh("2026-01-07T11:00:00"), 700_000);
    await w.use("cus_ent", sh("2026-01-08T11:00:00"), 500_000); // 200,000 beyond 1,000,000 included: 2,000,000
  }

  it("bills off-peak, peak and batch lines, enterprise overage, finalises, and reports equal totals", async () => {
    await januaryUsage();
    w.clock.set(Date.UTC(2026, 1, 1));
    const report = await w.reconciler().reconcile(JAN);
    expect(report.ok).toBe(true);

    const byCustomer = Object.fromEntries(report.customers.map((c) => [c.customer_id, c]));
    expect(byCustomer.cus_basic).toMatchObject({
      state: "reconciled",
      currency: "USD",
      ledger_micros: 152_560,
      carry_in_micros: 0,
      billed_micros: 150_000,
      carry_out_micros: 2_560,
      total_minor: 15,
      equal: true,
      drift: [],
    });
    expect(byCustomer.cus_basic?.lines).toEqual([
      {
        key: "offpeak:basic:v1",
        description: "Off-peak usage — 5,777 tokens × 0.02 USD per 1,000 tokens (Basic v1)",
        tokens: 5_777,
        amount_micros: 115_540,
        amount_minor: 11,
      },
      {
        key: "peak:basic:v1",
        description: "Peak usage (×1.5) — 1,234 tokens × 0.03 USD per 1,000 tokens (Basic v1)",
        tokens: 1_234,
        amount_micros: 37_020,
        amount_minor: 4,
      },
    ]);
    expect(byCustomer.cus_batch).toMatchObject({
      state: "reconciled",
      ledger_micros: 130_000,
      total_minor: 13,
      equal: true,
    });
    expect(byCustomer.cus_batch?.lines[0]?.description).toBe(
      "Batch usage (35 % off, no peak surcharge) — 10,000 tokens × 0.013 USD per 1,000 tokens (Batch v1)",
    );
    expect(byCustomer.cus_ent).toMatchObject({
      state: "reconciled",
      ledger_micros: 2_000_000,
      total_minor: 200,
      equal: true,
      enterprise: { includedTokens: 1_000_000, includedUsed: 1_000_000, overageTokens: 200_000 },
    });
    expect(byCustomer.cus_ent?.lines.map((l) => [l.key, l.tokens, l.amount_minor])).toEqual([
      ["included:enterprise:v1", 1_000_000, 0],
      ["overage:enterprise:v1", 200_000, 200],
    ]);

    // In Stripe: one finalised usage invoice per customer with exactly the planned lines and metadata.
    const usageInvoices = [...w.stripe.state.invoices.values()].filter((i) => i.metadata.period === "2026-01");
    expect(usageInvoices.map((i) => [i.metadata.customer_id, i.status, i.total]).sort()).toEqual([
      ["cus_basic", "open", 15],
      ["cus_batch", "open", 13],
      ["cus_ent", "open", 200],
    ]);
    const basicInvoice = usageInvoices.find((i) => i.metadata.customer_id === "cus_basic");
    const items = w.stripe.state.itemsOf(basicInvoice?.id ?? "");
    expect(
      items.map((i) => [i.amount, i.metadata.tokens, i.metadata.amount_micros, i.metadata.unit_price_micros_per_1k]),
    ).toEqual([
      [11, "5777", "115540", "20000"],
      [4, "1234", "37020", "20000"],
    ]);
    // Enterprise: the monthly fee is a subscription on the version's recurring price.
    const subscription = await w.billing.catalog.getSubscription("cus_ent");
    expect(subscription?.status).toBe("active");
    const feeInvoice = [...w.stripe.state.invoices.values()].find((i) => i.billing_reason === "subscription_create");
    expect(feeInvoice?.total).toBe(200_000);
    // Price versions are mirrored as Stripe prices: off-peak/peak, batch, fee/overage.
    const prices = [...w.stripe.state.prices.values()]
      .map((p) => [p.metadata.role, p.unit_amount_decimal, p.type])
      .sort();
    expect(prices).toEqual([
      ["batch", "1.3", "one_time"],
      ["fee", "200000", "recurring"],
      ["offpeak", "2", "one_time"],
      ["overage", "1", "one_time"],
      ["peak", "3", "one_time"],
    ]);
  });

  it("a re-run creates nothing new in Stripe and reports the same", async () => {
    await januaryUsage();
    w.clock.set(Date.UTC(2026, 1, 1));
    const first = await w.reconciler().reconcile(JAN);
    const mutations = w.stripe.mutations().length;
    const second = await w.reconciler().reconcile(JAN);
    expect(w.stripe.mutations().length).toBe(mutations);
    expect(second.customers.map((c) => [c.customer_id, c.state, c.stripe?.invoice_id])).toEqual(
      first.customers.map((c) => [c.customer_id, c.state, c.stripe?.invoice_id]),
    );
    expect(await w.reconciler().report(JAN)).toMatchObject({ ok: true });
  });

  it("the version in force at each event's time applies; a price change never reprices old usage", async () => {
    await w.use("cus_basic", sh("2026-01-05T20:00:00"), 1_000); // v1: 20,000 / 1k
    const v2 = await w.proxy.plans.addPriceVersion("basic", {
      effectiveFrom: sh("2026-01-15T00:00:00"),
      unitPriceMicrosPer1kTokens: 30_000,
      peakWindows: [],
    });
    expect(v2.ok).toBe(true);
    w.clock.set(sh("2026-01-20T00:00:00"));
    await w.use("cus_basic", sh("2026-01-20T10:00:00"), 1_000); // v2 (no peak windows): 30,000
    w.clock.set(Date.UTC(2026, 1, 1));
    const report = await w.reconciler().reconcile(JAN, { customerIds: ["cus_basic"] });
    expect(report.customers[0]?.lines.map((l) => [l.key, l.amount_micros])).toEqual([
      ["offpeak:basic:v1", 20_000],
      ["offpeak:basic:v2", 30_000],
    ]);
    expect(report.customers[0]).toMatchObject({ total_minor: 5, equal: true, drift: [] });
  });

  it("a sub-cent remainder is carried into the next period, not lost", async () => {
    await w.use("cus_basic", sh("2026-01-05T20:00:00"), 200); // 4,000 micros: less than a cent
    w.clock.set(Date.UTC(2026, 1, 1));
    const jan = await w.reconciler().reconcile(JAN, { customerIds: ["cus_basic"] });
    expect(jan.customers[0]).toMatchObject({
      state: "nothing_to_bill",
      billed_micros: 0,
      carry_out_micros: 4_000,
      equal: true,
    });
    await w.use("cus_basic", sh("2026-02-02T20:00:00"), 300); // 6,000 micros
    w.clock.set(Date.UTC(2026, 2, 1));
    const feb = await w.reconciler().reconcile(FEB, { customerIds: ["cus_basic"] });
    expect(feb.customers[0]).toMatchObject({
      state: "reconciled",
      ledger_micros: 6_000,
      carry_in_micros: 4_000,
      total_minor: 1,
      carry_out_micros: 0,
      equal: true,
    });
    expect([...w.stripe.state.invoices.values()].map((i) => i.total)).toEqual([1]);
  });

  it("zero-decimal currencies: whole yen, the rest carried", async () => {
    await seedPlans(w.proxy.plans, { currency: "JPY", suffix: "_jp", timeZone: "Asia/Tokyo" });
    await addCustomer(w.proxy, "cus_jp", "basic_jp");
    await w.use("cus_jp", Date.parse("2026-01-05T20:00:00+09:00"), 123_456); // 2,469,120 micros = ¥2.46912
    w.clock.set(Date.UTC(2026, 1, 1));
    const report = await w.reconciler().reconcile(JAN, { customerIds: ["cus_jp"] });
    expect(report.customers[0]).toMatchObject({
      currency: "JPY",
      total_minor: 2,
      carry_out_micros: 469_120,
      equal: true,
    });
    const invoice = [...w.stripe.state.invoices.values()][0];
    expect(invoice).toMatchObject({ currency: "jpy", total: 2 });
  });

  it("does not invoice a period that has not closed in the plan's time zone", async () => {
    await januaryUsage();
    w.clock.set(Date.UTC(2026, 0, 31, 15, 59)); // 23:59 in Shanghai on the 31st
    const report = await w.reconciler().reconcile(JAN, { customerIds: ["cus_basic"] });
    expect(report.customers[0]?.state).toBe("not_closed");
    expect(w.stripe.state.invoices.size).toBe(0);
  });

  it("refuses to finalise a draft someone changed in Stripe, and names it", async () => {
    await januaryUsage();
    w.clock.set(Date.UTC(2026, 1, 1));
    const r = w.reconciler();
    // Crash-free way to stop after the items: run the plan and the first two steps by hand.
    const gateway = w.gateway;
    let calls = 0;
    const stopAtFinalize = new Proxy(gateway, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (prop === "finalizeInvoice") {
          return () => {
            calls++;
            throw new Error("stop");
          };
        }
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    await w.reconciler({ gateway: stopAtFinalize }).reconcile(JAN, { customerIds: ["cus_basic"] });
    expect(calls).toBe(1);
    const sync = await w.billing.syncs.get("cus_basic", "2026-01");
    expect(sync?.state).toBe("items_created");
    // Someone adds a line to the draft in the Dashboard.
    await w.stripe.client().invoiceItems.create({
      customer: sync?.stripeCustomerId as string,
      invoice: sync?.stripeInvoiceId as string,
      amount: 999,
      currency: "usd",
    });
    const report = await r.reconcile(JAN, { customerIds: ["cus_basic"] });
    expect(report.customers[0]).toMatchObject({ state: "drift" });
    expect(report.customers[0]?.drift.map((d) => d.message).join()).toMatch(/not in the plan/);
    expect(report.ok).toBe(false);
    expect(w.stripe.state.invoices.get(sync?.stripeInvoiceId as string)?.status).toBe("draft");
  });

  it("names usage that reached the ledger after the period was planned", async () => {
    await januaryUsage();
    w.clock.set(Date.UTC(2026, 1, 1));
    const stopAfterPlan = new Proxy(w.gateway, {
      get(target, prop, receiver) {
        if (prop === "findInvoice") return () => Promise.reject(new Error("stop"));
        const v = Reflect.get(target, prop, receiver);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    await w.reconciler({ gateway: stopAfterPlan }).reconcile(JAN, { customerIds: ["cus_basic"] });
    await w.use("cus_basic", sh("2026-01-31T23:00:00"), 100); // a late write into the planned period
    const report = await w.reconciler().reconcile(JAN, { customerIds: ["cus_basic"] });
    expect(report.customers[0]?.state).toBe("drift");
    expect(report.customers[0]?.drift.map((d) => d.code)).toContain("ledger_changed_after_planning");
    // The invoice still bills exactly the frozen plan.
    expect(report.customers[0]).toMatchObject({ total_minor: 15, stripe: { total_minor: 15 } });
  });
});
