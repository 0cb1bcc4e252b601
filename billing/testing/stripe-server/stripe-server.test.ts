import { serve } from "@hono/node-server";
import { Hono } from "hono";
import Stripe from "stripe";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type RunningStripeTestServer, startStripeTestServer } from "./index.ts";

/** The test server through the official SDK: the semantics billing relies on, checked the way billing uses them. */
describe("local Stripe test server (through stripe-node)", () => {
  let server: RunningStripeTestServer;
  let stripe: Stripe;

  beforeEach(async () => {
    server = await startStripeTestServer();
    stripe = server.client();
  });
  afterEach(async () => {
    await server.close();
  });

  it("creates and retrieves objects with Stripe-style ids; unknown ids are resource_missing", async () => {
    const customer = await stripe.customers.create({
      email: "a@acme.test",
      name: "Acme",
      metadata: { customer_id: "c1" },
    });
    expect(customer.id).toMatch(/^cus_[0-9A-Za-z]{14}$/);
    expect((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).toMatchObject({
      email: "a@acme.test",
      metadata: { customer_id: "c1" },
    });
    const err = await stripe.customers.retrieve("cus_nope").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err).toMatchObject({ statusCode: 404, code: "resource_missing" });
    const search = await stripe.customers.search({ query: "metadata['customer_id']:'c1'" });
    expect(search.data.map((c) => c.id)).toEqual([customer.id]);
  });

  it("refuses requests without a test secret key", async () => {
    const res = await fetch(`${server.url}/v1/customers`, { method: "POST" });
    expect(res.status).toBe(401);
  });

  describe("idempotency (v1)", () => {
    it("same key, same parameters: the stored response, nothing created twice", async () => {
      const a = await stripe.customers.create({ email: "x@y.test", metadata: { k: "1" } }, { idempotencyKey: "k-1" });
      const b = await stripe.customers.create({ metadata: { k: "1" }, email: "x@y.test" }, { idempotencyKey: "k-1" });
      expect(b.id).toBe(a.id);
      expect(b.lastResponse.headers["idempotent-replayed"]).toBe("true");
      expect(server.state.customers.size).toBe(1);
      expect(server.mutations()).toHaveLength(1);
    });

    it("same key, other parameters (or another endpoint): 400 idempotency_error", async () => {
      await stripe.customers.create({ email: "x@y.test" }, { idempotencyKey: "k-2" });
      const err = await stripe.customers
        .create({ email: "z@y.test" }, { idempotencyKey: "k-2" })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
      expect(err).toMatchObject({ statusCode: 400, type: "StripeIdempotencyError" });
      const other = await stripe.products.create({ name: "P" }, { idempotencyKey: "k-2" }).catch((e: unknown) => e);
      expect(other).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
      expect(server.state.customers.size).toBe(1);
      expect(server.state.products.size).toBe(0);
    });

    it("a request that fails validation saves nothing under its key", async () => {
      const bad = await stripe.invoiceItems
        .create({ customer: "cus_missing", amount: 100, currency: "usd" }, { idempotencyKey: "k-3" })
        .catch((e: unknown) => e);
      expect(bad).toMatchObject({ statusCode: 404 });
      const customer = await stripe.customers.create({});
      const ok = await stripe.invoiceItems.create(
        { customer: customer.id, amount: 100, currency: "usd" },
        { idempotencyKey: "k-4" },
      );
      expect(ok.amount).toBe(100);
      // After pruning (≥ 24 h in Stripe) the same key creates a new object.
      server.pruneIdempotencyKeys();
      const again = await stripe.invoiceItems.create(
        { customer: customer.id, amount: 100, currency: "usd" },
        { idempotencyKey: "k-4" },
      );
      expect(again.id).not.toBe(ok.id);
    });
  });

  it("prices are immutable: amounts cannot be updated, only metadata and the like", async () => {
    const product = await stripe.products.create({ name: "Basic" });
    const price = await stripe.prices.create({
      product: product.id,
      currency: "usd",
      unit_amount_decimal: Stripe.Decimal.from("1.5001"),
      metadata: { v: "1" },
    });
    expect(price.unit_amount_decimal?.toString()).toBe("1.5001");
    expect(price.unit_amount).toBeNull();
    const err = await stripe.prices
      .update(price.id, { unit_amount: 3 } as unknown as Stripe.PriceUpdateParams)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ statusCode: 400, code: "parameter_unknown" });
    expect((await stripe.prices.update(price.id, { nickname: "v1 off-peak" })).nickname).toBe("v1 off-peak");
  });

  describe("invoices", () => {
    let customer: Stripe.Customer;
    beforeEach(async () => {
      customer = await stripe.customers.create({ email: "c@acme.test" });
    });

    it("pending items are excluded by default and swept only with pending_invoice_items_behavior=include", async () => {
      const item = await stripe.invoiceItems.create({ customer: customer.id, amount: 1234, currency: "usd" });
      expect(item.invoice).toBeNull();
      const plain = await stripe.invoices.create({ customer: customer.id });
      expect(plain).toMatchObject({ status: "draft", total: 0, lines: { data: [] } });
      const included = await stripe.invoices.create({
        customer: customer.id,
        pending_invoice_items_behavior: "include",
      });
      expect(included.total).toBe(1234);
      expect(included.lines.data).toHaveLength(1);
      const third = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: "include" });
      expect(third.total).toBe(0);
      const pending = await stripe.invoiceItems.list({ customer: customer.id, pending: true });
      expect(pending.data).toEqual([]);
    });

    it("items go on drafts only; finalisation numbers the invoice once; a zero invoice is paid on finalisation", async () => {
      const draft = await stripe.invoices.create({ customer: customer.id, currency: "usd", auto_advance: false });
      await stripe.invoiceItems.create({ customer: customer.id, amount: 500, currency: "usd", invoice: draft.id });
      const wrongCurrency = await stripe.invoiceItems
        .create({ customer: customer.id, amount: 5, currency: "eur", invoice: draft.id })
        .catch((e: unknown) => e);
      expect(wrongCurrency).toMatchObject({ statusCode: 400 });
      const open = await stripe.invoices.finalizeInvoice(draft.id);
      expect(open).toMatchObject({ status: "open", total: 500, amount_due: 500 });
      expect(open.number).toMatch(/^TEST-\d{4}$/);
      const late = await stripe.invoiceItems
        .create({ customer: customer.id, amount: 1, currency: "usd", invoice: draft.id })
        .catch((e: unknown) => e);
      expect(late).toMatchObject({ statusCode: 400, code: "invoice_not_editable" });
      const twice = await stripe.invoices.finalizeInvoice(draft.id).catch((e: unknown) => e);
      expect(twice).toMatchObject({ statusCode: 400 });
      const empty = await stripe.invoices.create({ customer: customer.id });
      expect((await stripe.invoices.finalizeInvoice(empty.id)).status).toBe("paid");
      expect(server.state.events.map((e) => e.type)).toEqual([
        "invoice.created",
        "invoice.finalized",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
      ]);
    });

    it("payment: success pays, a decline is a card_error and an invoice.payment_failed event", async () => {
      const draft = await stripe.invoices.create({ customer: customer.id });
      await stripe.invoiceItems.create({ customer: customer.id, amount: 700, currency: "usd", invoice: draft.id });
      await stripe.invoices.finalizeInvoice(draft.id);
      server.setPaymentOutcome(customer.id, "fail");
      const declined = await stripe.invoices.pay(draft.id).catch((e: unknown) => e);
      expect(declined).toBeInstanceOf(Stripe.errors.StripeCardError);
      server.setPaymentOutcome(customer.id, "succeed");
      expect((await stripe.invoices.pay(draft.id)).status).toBe("paid");
      const types = server.state.events.map((e) => e.type);
      expect(types.slice(-2)).toEqual(["invoice.payment_failed", "invoice.paid"]);
    });

    it("lists page newest first and auto-paginate through the SDK", async () => {
      const draft = await stripe.invoices.create({ customer: customer.id });
      for (let i = 0; i < 23; i++) {
        await stripe.invoiceItems.create({ customer: customer.id, amount: i, currency: "usd", invoice: draft.id });
      }
      const firstPage = await stripe.invoiceItems.list({ invoice: draft.id, limit: 10 });
      expect(firstPage.has_more).toBe(true);
      expect(firstPage.data[0]?.amount).toBe(22);
      const all = await stripe.invoiceItems.list({ invoice: draft.id, limit: 10 }).autoPagingToArray({ limit: 100 });
      expect(all.map((i) => i.amount).sort((a, b) => a - b)).toEqual(Array.from({ length: 23 }, (_, i) => i));
    });
  });

  it("subscriptions: the first invoice bills the recurring price (and sweeps pending items); cancel emits deleted", async () => {
    const customer = await stripe.customers.create({});
    const product = await stripe.products.create({ name: "Enterprise" });
    const fee = await stripe.prices.create({
      product: product.id,
      currency: "usd",
      unit_amount: 200_000,
      recurring: { interval: "month" },
    });
    await stripe.invoiceItems.create({ customer: customer.id, amount: 42, currency: "usd" });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: fee.id }],
      collection_method: "send_invoice",
      days_until_due: 14,
    });
    expect(sub.status).toBe("active");
    const invoice = await stripe.invoices.retrieve(sub.latest_invoice as string);
    expect(invoice).toMatchObject({ status: "open", total: 200_042, billing_reason: "subscription_create" });
    const oneTime = await stripe.prices.create({ product: product.id, currency: "usd", unit_amount: 1 });
    const bad = await stripe.subscriptions
      .create({ customer: customer.id, items: [{ price: oneTime.id }] })
      .catch((e: unknown) => e);
    expect(bad).toMatchObject({ statusCode: 400 });
    const canceled = await stripe.subscriptions.cancel(sub.id);
    expect(canceled.status).toBe("canceled");
    expect(server.state.events.at(-1)?.type).toBe("customer.subscription.deleted");
  });

  it("billing portal sessions return a URL for an existing customer", async () => {
    const customer = await stripe.customers.create({});
    const session = await stripe.billingPortal.sessions.create({
      customer: customer.id,
      return_url: "https://app.test/billing",
    });
    expect(session.url).toMatch(new RegExp(`^${server.url}/p/session/`));
    expect(session.return_url).toBe("https://app.test/billing");
    await expect(stripe.billingPortal.sessions.create({ customer: "cus_missing" })).rejects.toMatchObject({
      statusCode: 404,
    });
  });

  it("delivers events signed the way Stripe signs them (the SDK verifies them), and keeps undelivered ones", async () => {
    const secret = "whsec_test_local";
    const received: string[] = [];
    let status = 200;
    const endpoint = new Hono().post("/hook", async (c) => {
      const raw = await c.req.text();
      const event = await Stripe.webhooks.constructEventAsync(
        raw,
        c.req.header("stripe-signature") ?? "",
        secret,
        300,
        Stripe.createSubtleCryptoProvider(),
      );
      received.push(event.type);
      return c.json({}, status as 200);
    });
    endpoint.onError((err, c) => c.json({ error: String(err) }, 400));
    const http = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: endpoint.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
    });
    try {
      const port = (http.address() as { port: number }).port;
      server.setWebhook({ url: `http://127.0.0.1:${port}/hook`, secret });
      const customer = await stripe.customers.create({});
      const draft = await stripe.invoices.create({ customer: customer.id });
      await stripe.invoices.finalizeInvoice(draft.id);
      expect((await server.deliverEvents()).map((d) => d.status)).toEqual([200, 200, 200]);
      expect(received).toEqual(["invoice.created", "invoice.finalized", "invoice.paid"]);
      status = 500;
      await stripe.invoices.create({ customer: customer.id });
      await server.deliverEvents();
      expect(server.pendingEvents).toHaveLength(1);
      status = 200;
      await server.deliverEvents();
      expect(server.pendingEvents).toHaveLength(0);
      // A wrong secret, or a signature older than the tolerance, fails the SDK's verification (→ 400 here).
      const last = server.state.events.at(-1);
      if (!last) throw new Error("no event");
      expect(await server.sendEvent(last, { secret: "whsec_other" })).toBe(400);
      expect(await server.sendEvent(last, { timestampSeconds: Math.floor(Date.now() / 1000) - 301 })).toBe(400);
      expect(await server.sendEvent(last)).toBe(200);
    } finally {
      http.close();
    }
  });
});
