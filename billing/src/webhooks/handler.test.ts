import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { signatureHeader } from "../../testing/stripe-server/index.ts";
import { BillingError } from "../errors.ts";
import { type Period, parsePeriod } from "../period.ts";
import { addCustomer, createWorld, seedPlans, type World } from "../testing/world.ts";
import { WebhookHandler } from "./handler.ts";

const SECRET = "whsec_test_billing";
const HOUR = 3_600_000;
const JAN = parsePeriod("2026-01") as Period;

describe("Stripe webhooks: signature, dedupe, payment failure → grace → suspension, payment → restore", () => {
  let w: World;
  let logs: Record<string, unknown>[];
  let handler: WebhookHandler;

  beforeEach(async () => {
    w = await createWorld({ now: Date.UTC(2026, 0, 1) });
    await seedPlans(w.proxy.plans);
    await addCustomer(w.proxy, "cus_a", "basic");
    await addCustomer(w.proxy, "cus_ent", "enterprise");
    logs = [];
    handler = new WebhookHandler({
      secret: SECRET,
      billing: w.billing,
      customers: w.proxy.customers,
      clock: w.clock,
      gracePeriodMs: 48 * HOUR,
      log: (l) => logs.push(l),
    });
    await w.use("cus_a", Date.parse("2026-01-05T20:00:00+08:00"), 50_000); // 1,000,000 micros = $1.00
    w.clock.set(Date.UTC(2026, 1, 1));
    await w.reconciler().reconcile(JAN);
  });
  afterEach(async () => {
    await w.close();
  });

  /** Delivers a recorded Stripe event to the handler, signed as Stripe signs (at `t`, default now). */
  const deliver = async (type: string, options: { t?: number; secret?: string; nth?: number } = {}) => {
    const events = w.stripe.state.events.filter((e) => e.type === type);
    const event = events[options.nth ?? events.length - 1];
    if (!event) throw new Error(`no ${type} event`);
    const payload = JSON.stringify(event);
    const t = options.t ?? Math.floor(w.clock.now() / 1000);
    return handler.handle(
      new TextEncoder().encode(payload),
      await signatureHeader(payload, options.secret ?? SECRET, t),
    );
  };
  const invoiceOf = (customerId: string) =>
    [...w.stripe.state.invoices.values()].find(
      (i) => i.metadata.customer_id === customerId && i.metadata.period === "2026-01",
    );
  const failPayment = async (customerId: string) => {
    const invoice = invoiceOf(customerId);
    w.stripe.setPaymentOutcome(invoice?.customer ?? "", "fail");
    await w.stripe
      .client()
      .invoices.pay(invoice?.id ?? "")
      .catch(() => null);
  };
  const pay = async (customerId: string) => {
    const invoice = invoiceOf(customerId);
    w.stripe.setPaymentOutcome(invoice?.customer ?? "", "succeed");
    await w.stripe.client().invoices.pay(invoice?.id ?? "");
  };
  const status = async (id: string) => (await w.proxy.customers.getCustomer(id))?.status;

  it("refuses a forged signature, a missing one and one older than 300 s (400, logged); accepts 299 s", async () => {
    await failPayment("cus_a");
    const now = Math.floor(w.clock.now() / 1000);
    for (const attempt of [
      () => deliver("invoice.payment_failed", { secret: "whsec_forged" }),
      () => deliver("invoice.payment_failed", { t: now - 301 }),
      () => handler.handle("{}", null),
    ]) {
      const err = await attempt().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BillingError);
      expect(err).toMatchObject({ code: "STRIPE_SIGNATURE_INVALID", status: 400 });
    }
    expect(logs.filter((l) => l.msg === "stripe webhook rejected: bad signature")).toHaveLength(3);
    expect(await w.billing.dunning.unpaidFor("cus_a")).toEqual([]);
    expect(await deliver("invoice.payment_failed", { t: now - 299 })).toMatchObject({ status: 200 });
    expect(await w.billing.dunning.unpaidFor("cus_a")).toHaveLength(1);
  });

  it("a tampered body fails verification even with a once-valid signature", async () => {
    await failPayment("cus_a");
    const event = w.stripe.state.events.filter((e) => e.type === "invoice.payment_failed")[0];
    const payload = JSON.stringify(event);
    const header = await signatureHeader(payload, SECRET, Math.floor(w.clock.now() / 1000));
    await expect(handler.handle(payload.replace("cus_", "cux_"), header)).rejects.toMatchObject({
      code: "STRIPE_SIGNATURE_INVALID",
    });
  });

  it("a signature from a day in the future is refused; one within the tolerance ahead is accepted", async () => {
    await failPayment("cus_a");
    const now = Math.floor(w.clock.now() / 1000);
    await expect(deliver("invoice.payment_failed", { t: now + 86_400 })).rejects.toMatchObject({
      code: "STRIPE_SIGNATURE_INVALID",
      status: 400,
    });
    await expect(deliver("invoice.payment_failed", { t: now + 301 })).rejects.toMatchObject({
      code: "STRIPE_SIGNATURE_INVALID",
    });
    expect(await deliver("invoice.payment_failed", { t: now + 60 })).toMatchObject({ status: 200 });
  });

  it("a validly signed body that is not an event gets a 4xx with a stable code, never a 5xx, and is not a signature failure", async () => {
    const t = Math.floor(w.clock.now() / 1000);
    const signed = async (payload: string) =>
      handler.handle(payload, await signatureHeader(payload, SECRET, t)).catch((e: unknown) => e);
    const cases: [string, string][] = [
      ["{not json", "INVALID_JSON"],
      ["[]", "WEBHOOK_EVENT_INVALID"],
      ['[{"id":"evt_1","type":"invoice.paid"}]', "WEBHOOK_EVENT_INVALID"],
      ['{"type":"invoice.paid","data":{"object":{}}}', "WEBHOOK_EVENT_INVALID"],
      ['{"id":"","type":"invoice.paid","data":{"object":{}}}', "WEBHOOK_EVENT_INVALID"],
      ['{"id":"evt_2","type":7,"data":{"object":{}}}', "WEBHOOK_EVENT_INVALID"],
      ["null", "WEBHOOK_EVENT_INVALID"],
      ['"evt"', "WEBHOOK_EVENT_INVALID"],
      ['{"id":"evt_3","type":"invoice.paid"}', "WEBHOOK_EVENT_INVALID"],
      ['{"id":"evt_4","type":"invoice.paid","data":{"object":{"customer":"cus_x"}}}', "WEBHOOK_EVENT_INVALID"],
      ['{"id":"evt_5","type":"customer.subscription.deleted","data":{"object":{"id":5}}}', "WEBHOOK_EVENT_INVALID"],
    ];
    for (const [payload, code] of cases) {
      const err = await signed(payload);
      expect(err, payload).toBeInstanceOf(BillingError);
      expect(err, payload).toMatchObject({ code, status: 400 });
    }
    expect(logs.filter((l) => l.msg === "stripe webhook rejected: bad signature")).toHaveLength(0);
    // an event the handler does not process is still acknowledged
    expect(await signed('{"id":"evt_6","type":"charge.refunded","data":{"object":{}}}')).toMatchObject({ status: 200 });
    // and an event refused for its object is not stuck "in progress": a corrected delivery is processed
    expect(await signed('{"id":"evt_4","type":"charge.refunded","data":{"object":{}}}')).toMatchObject({ status: 200 });
  });

  it("an event id already processed is acknowledged and not processed again", async () => {
    await failPayment("cus_a");
    const first = await deliver("invoice.payment_failed");
    const again = await deliver("invoice.payment_failed");
    expect(first.body).toMatchObject({ received: true });
    expect(again).toMatchObject({ status: 200, body: { duplicate: true } });
    expect((await w.billing.dunning.unpaidFor("cus_a"))[0]?.failures).toBe(1);
  });

  it("payment failure suspends the keys only after the grace period; payment restores them", async () => {
    await failPayment("cus_a");
    const r = await deliver("invoice.payment_failed");
    expect(r.body).toMatchObject({
      outcome: expect.stringMatching(/suspended at 2026-02-03T00:00:00.000Z unless paid/),
    });
    expect(await status("cus_a")).toBe("active");
    w.clock.advance(48 * HOUR - 1);
    expect(await handler.dunning.enforce()).toEqual([]);
    w.clock.advance(1);
    expect(await handler.dunning.enforce()).toEqual(["cus_a"]);
    expect(await w.proxy.customers.getCustomer("cus_a")).toMatchObject({
      status: "suspended",
      suspendedReason: expect.stringMatching(/^billing: payment overdue \(in_/),
    });
    await pay("cus_a");
    expect((await deliver("invoice.paid")).body).toMatchObject({ outcome: expect.stringMatching(/^restored cus_a/) });
    expect(await status("cus_a")).toBe("active");
    expect((await w.billing.syncs.get("cus_a", "2026-01"))?.stripeInvoiceStatus).toBe("paid");
  });

  it("a failure reported after the grace period has already run out suspends at once", async () => {
    await failPayment("cus_a");
    await deliver("invoice.payment_failed");
    w.clock.advance(49 * HOUR);
    await failPayment("cus_a"); // Stripe's next retry fails too
    expect((await deliver("invoice.payment_failed")).body).toMatchObject({
      outcome: expect.stringMatching(/^suspended cus_a/),
    });
    expect(await status("cus_a")).toBe("suspended");
  });

  it("payment does not lift a suspension someone else made", async () => {
    await w.proxy.customers.suspend("cus_a", "abuse report #12");
    await failPayment("cus_a");
    await deliver("invoice.payment_failed");
    await pay("cus_a");
    await deliver("invoice.paid");
    expect(await w.proxy.customers.getCustomer("cus_a")).toMatchObject({
      status: "suspended",
      suspendedReason: "abuse report #12",
    });
  });

  it("customer.subscription.deleted cancels the enterprise subscription and suspends; unknown objects are acknowledged and logged", async () => {
    const sub = await w.billing.catalog.getSubscription("cus_ent");
    expect(sub?.status).toBe("active");
    await w.stripe.client().subscriptions.cancel(sub?.stripeSubscriptionId ?? "");
    expect((await deliver("customer.subscription.deleted")).status).toBe(200);
    expect((await w.billing.catalog.getSubscription("cus_ent"))?.status).toBe("canceled");
    expect(await w.proxy.customers.getCustomer("cus_ent")).toMatchObject({
      status: "suspended",
      suspendedReason: expect.stringMatching(/^billing: subscription canceled/),
    });
    // A subscription and an invoice this system never made.
    const stranger = await w.stripe.client().customers.create({});
    const product = await w.stripe.client().products.create({ name: "other" });
    const price = await w.stripe
      .client()
      .prices.create({ product: product.id, currency: "usd", unit_amount: 5, recurring: { interval: "month" } });
    const foreign = await w.stripe
      .client()
      .subscriptions.create({ customer: stranger.id, items: [{ price: price.id }] });
    await w.stripe.client().subscriptions.cancel(foreign.id);
    expect(await deliver("customer.subscription.deleted")).toMatchObject({
      status: 200,
      body: { outcome: expect.stringMatching(/^unknown object: subscription/) },
    });
    expect(await deliver("invoice.paid")).toMatchObject({
      status: 200,
      body: { outcome: expect.stringMatching(/^unknown object: invoice/) },
    });
    expect(logs.filter((l) => l.msg === "stripe webhook about an unknown object")).toHaveLength(2);
    expect(await deliver("invoice.finalized")).toMatchObject({
      status: 200,
      body: { outcome: "ignored invoice.finalized" },
    });
  });

  it("a processing failure releases the event so Stripe's retry processes it", async () => {
    await failPayment("cus_a");
    const broken = new WebhookHandler({
      secret: SECRET,
      billing: {
        ...w.billing,
        dunning: { ...w.billing.dunning, recordFailure: () => Promise.reject(new Error("disk full")) },
      },
      customers: w.proxy.customers,
      clock: w.clock,
      gracePeriodMs: HOUR,
    });
    const event = w.stripe.state.events.filter((e) => e.type === "invoice.payment_failed")[0];
    const payload = JSON.stringify(event);
    const header = await signatureHeader(payload, SECRET, Math.floor(w.clock.now() / 1000));
    await expect(broken.handle(payload, header)).rejects.toThrow("disk full");
    expect(await handler.handle(payload, header)).toMatchObject({
      status: 200,
      body: { outcome: expect.stringMatching(/failed/) },
    });
  });
});
