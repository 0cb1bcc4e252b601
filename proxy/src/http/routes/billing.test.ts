import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BillingService } from "../../../../billing/src/service.ts";
import { createSqlBillingStores } from "../../../../billing/src/store/sql/index.ts";
import { SdkStripeGateway } from "../../../../billing/src/stripe/sdk-gateway.ts";
import { signatureHeader, startStripeTestServer } from "../../../../billing/testing/stripe-server/index.ts";
import { createPromMetrics } from "../../adapters/node/prom-metrics.ts";
import { closeSqlite, createSqliteStores, openSqlite, type SqliteDb } from "../../adapters/sqlite/index.ts";
import { ensureDefaultPlans } from "../../bootstrap.ts";
import { composeProxy, defaultProxyConfig } from "../../compose.ts";
import { InMemoryConcurrencyLimiter, InMemoryRateLimiter } from "../../core/rate-limit/gcra.ts";
import { ManualClock } from "../../store/testing/harness.ts";
import { ADMIN_TOKEN, listen, stubWavTransport } from "../../testing/stack.ts";
import { gpuNodeAdapter } from "../../upstream/adapters.ts";

const SECRET = "whsec_proxy_route_test";
const HOUR = 3_600_000;

/** The proxy over real HTTP with SQLite stores and billing pointed (SDK host/port/protocol) at the local Stripe. */
async function startBillingProxy(options: { stripe: boolean }) {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const db: SqliteDb = openSqlite(":memory:");
  const stores = createSqliteStores(db, { clock });
  await ensureDefaultPlans(stores, "UTC");
  const stripe = await startStripeTestServer({ now: () => clock.now() });
  const logs: Record<string, unknown>[] = [];
  const composed = composeProxy({
    stores,
    nodes: [{ id: "node0", url: "http://stub.invalid" }],
    transport: stubWavTransport(60_000), // a minute of audio per request: 3,000 tokens, 6 cents off-peak
    adapter: gpuNodeAdapter,
    rateLimiter: new InMemoryRateLimiter(),
    concurrency: new InMemoryConcurrencyLimiter(),
    config: defaultProxyConfig(ADMIN_TOKEN),
    voices: () => [{ id: 0, name: "alice", description: "stub" }],
    metrics: createPromMetrics,
    remoteAddress: () => "127.0.0.1",
    clientIp: () => "127.0.0.1",
    now: () => clock.now(),
    log: (l) => logs.push(l),
  });
  composed.deps.billing = new BillingService({
    customers: composed.deps.stores.customers,
    plans: composed.deps.stores.plans,
    billing: createSqlBillingStores(db, { clock }),
    stripe: options.stripe ? new SdkStripeGateway(stripe.client()) : null,
    webhookSecret: options.stripe ? SECRET : null,
    clock,
    config: { settleMs: 0, gracePeriodMs: 24 * HOUR, portalReturnUrl: "https://app.example.test/billing" },
    log: (l) => logs.push(l),
  });
  const server = await listen(composed.app.fetch);
  stripe.setWebhook({ url: `${server.url}/stripe/webhook`, secret: SECRET });
  const call = async (
    method: string,
    path: string,
    init: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
  ) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        ...(init.body !== undefined ? { "content-type": "application/json" } : {}),
        ...init.headers,
      },
      ...(init.body !== undefined
        ? { body: JSON.stringify(init.body) }
        : init.raw !== undefined
          ? { body: init.raw }
          : {}),
    });
    return {
      status: res.status,
      json: ((res.headers.get("content-type") ?? "").includes("json") ? await res.json() : {}) as Record<
        string,
        unknown
      > & {
        error?: { code: string; message: string };
      },
    };
  };
  const admin = (method: string, path: string, body?: unknown) =>
    call(method, path, { token: ADMIN_TOKEN, ...(body !== undefined ? { body } : {}) });
  return {
    clock,
    stores,
    stripe,
    logs,
    call,
    admin,
    billing: composed.deps.billing,
    async newCustomer(planId: string) {
      const created = await admin("POST", "/admin/customers", {
        name: "Test",
        email: "t@example.test",
        plan_id: planId,
      });
      const id = (created.json.customer as { id: string }).id;
      const key = await admin("POST", `/admin/customers/${id}/keys`);
      return { id, key: key.json.key as string, created };
    },
    async close() {
      await server.close();
      await composed.ledger.close();
      await stripe.close();
      closeSqlite(db);
    },
  };
}

type Proxy = Awaited<ReturnType<typeof startBillingProxy>>;

describe("billing routes on the proxy (real HTTP, SQLite, the SDK against the local Stripe server)", () => {
  let p: Proxy;
  beforeEach(async () => {
    p = await startBillingProxy({ stripe: true });
  });
  afterEach(async () => {
    await p.close();
  });

  it("POST /v1/billing/portal: a portal session URL for the caller's customer, its Stripe customer made on demand", async () => {
    const c = await p.newCustomer("basic");
    expect((await p.call("POST", "/v1/billing/portal")).status).toBe(401);
    const r = await p.call("POST", "/v1/billing/portal", { token: c.key });
    expect(r.status).toBe(200);
    expect(r.json.url).toMatch(new RegExp(`^${p.stripe.url}/p/session/`));
    const customer = await p.stores.customers.getCustomer(c.id);
    expect(customer?.stripeCustomerId).toMatch(/^cus_/);
    const session = [...p.stripe.state.portalSessions.values()][0];
    expect(session).toMatchObject({
      customer: customer?.stripeCustomerId,
      return_url: "https://app.example.test/billing",
    });
    // Again: a new session, the same Stripe customer.
    await p.call("POST", "/v1/billing/portal", { token: c.key });
    expect(p.stripe.state.customers.size).toBe(1);
  });

  it("a suspended customer can still open the portal (it is where they pay); a bad key cannot", async () => {
    const c = await p.newCustomer("basic");
    await p.admin("POST", `/admin/customers/${c.id}/suspend`, { reason: "billing: payment overdue (in_x)" });
    expect((await p.call("GET", "/v1/usage", { token: c.key })).status).toBe(403);
    expect((await p.call("POST", "/v1/billing/portal", { token: c.key })).status).toBe(200);
    const bad = await p.call("POST", "/v1/billing/portal", { token: "tts_live_nope" });
    expect([bad.status, bad.json.error?.code]).toEqual([401, "INVALID_API_KEY"]);
  });

  it("admin: a price version is checked (batch ≥ 30 % below list) and mirrored to new, immutable Stripe prices", async () => {
    const tooCheap = await p.admin("POST", "/admin/plans/batch/prices", {
      unit_price_micros_per_1k_tokens: 20_000,
      batch_discount_bp: 2_000,
    });
    expect(tooCheap.status).toBe(400);
    expect(tooCheap.json.error?.message).toMatch(/at least 30 %/);
    const v2 = await p.admin("POST", "/admin/plans/batch/prices", {
      unit_price_micros_per_1k_tokens: 20_000,
      batch_discount_bp: 4_000,
      effective_from: Date.UTC(2026, 1, 1),
    });
    expect(v2.status).toBe(201);
    const stripe = v2.json.stripe as { prices: { role: string; stripePriceId: string }[] };
    expect(stripe.prices.map((x) => x.role)).toEqual(["batch"]);
    const price = p.stripe.state.prices.get(stripe.prices[0]?.stripePriceId ?? "");
    expect(price).toMatchObject({
      unit_amount_decimal: "1.2",
      currency: "usd",
      metadata: { plan_id: "batch", version: "2" },
    });
    const v3 = await p.admin("POST", "/admin/plans/batch/prices", {
      unit_price_micros_per_1k_tokens: 30_000,
      batch_discount_bp: 3_000,
      effective_from: Date.UTC(2026, 2, 1),
    });
    const v3price = (v3.json.stripe as { prices: { stripePriceId: string }[] }).prices[0]?.stripePriceId;
    expect(v3price).not.toBe(price?.id);
    expect(p.stripe.state.prices.get(price?.id ?? "")?.unit_amount_decimal).toBe("1.2");
    const fee = await p.admin("POST", "/admin/plans/enterprise/prices", {
      unit_price_micros_per_1k_tokens: 0,
      monthly_fee_micros: 1_000_000_005,
      effective_from: Date.UTC(2026, 1, 1),
    });
    expect(fee.status).toBe(400);
    expect(fee.json.error?.message).toMatch(/whole number of USD/);
  });

  it("admin: an enterprise customer gets its Stripe customer and fee subscription when created", async () => {
    const c = await p.newCustomer("enterprise");
    expect(c.created.status).toBe(201);
    expect(c.created.json.stripe).toMatchObject({
      stripeCustomerId: expect.stringMatching(/^cus_/),
      subscriptionId: expect.stringMatching(/^sub_/),
    });
    const sub = [...p.stripe.state.subscriptions.values()][0];
    expect(sub?.items.data[0]?.price.unit_amount).toBe(200_000); // $2,000.00 a month
  });

  it("admin: POST /admin/billing/reconcile invoices a period and GET …/reports/:period shows it; bad input is a 400", async () => {
    const c = await p.newCustomer("basic");
    expect((await p.call("POST", "/v1/tts", { token: c.key, body: { text: "hello world", voice: 0 } })).status).toBe(
      200,
    );
    p.clock.set(Date.UTC(2026, 1, 1));
    expect((await p.call("POST", "/admin/billing/reconcile", { body: { period: "2026-01" } })).status).toBe(401);
    expect((await p.admin("POST", "/admin/billing/reconcile", { period: "2026-1" })).json.error?.code).toBe(
      "INVALID_REQUEST",
    );
    const r = await p.admin("POST", "/admin/billing/reconcile", { period: "2026-01" });
    expect(r.status).toBe(200);
    const report = r.json.report as {
      ok: boolean;
      customers: { customer_id: string; state: string; equal: boolean | null }[];
    };
    expect(report.ok).toBe(true);
    expect(report.customers.find((x) => x.customer_id === c.id)).toMatchObject({ state: "reconciled", equal: true });
    const stored = await p.admin("GET", "/admin/billing/reports/2026-01");
    expect((stored.json.report as { customers: unknown[] }).customers).toHaveLength(report.customers.length);
    expect((await p.admin("GET", "/admin/billing/reports/nope")).status).toBe(400);
  });

  describe("POST /stripe/webhook", () => {
    async function failedInvoice() {
      const c = await p.newCustomer("basic");
      await p.call("POST", "/v1/tts", { token: c.key, body: { text: "hello world", voice: 0 } });
      p.clock.set(Date.UTC(2026, 1, 1));
      await p.admin("POST", "/admin/billing/reconcile", { period: "2026-01", customer_ids: [c.id] });
      const invoice = [...p.stripe.state.invoices.values()].find((i) => i.metadata.customer_id === c.id);
      if (!invoice) throw new Error("no invoice");
      p.stripe.setPaymentOutcome(invoice.customer, "fail");
      await p.stripe
        .client()
        .invoices.pay(invoice.id)
        .catch(() => null);
      return { ...c, invoice };
    }

    it("payment failed → suspended after the grace period (403) → paid → restored; deliveries signed by the server", async () => {
      const c = await failedInvoice();
      const delivered = await p.stripe.deliverEvents();
      expect(delivered.every((d) => d.status === 200)).toBe(true);
      expect(delivered.map((d) => d.type)).toContain("invoice.payment_failed");
      expect((await p.call("GET", "/v1/usage", { token: c.key })).status).toBe(200);
      p.clock.advance(24 * HOUR);
      expect((await p.billing?.runScheduled())?.suspended).toEqual([c.id]);
      const blocked = await p.call("GET", "/v1/usage", { token: c.key });
      expect(blocked.status).toBe(403);
      expect(blocked.json.error?.code).toBe("CUSTOMER_SUSPENDED");
      p.stripe.setPaymentOutcome(c.invoice.customer, "succeed");
      await p.stripe.client().invoices.pay(c.invoice.id);
      expect((await p.stripe.deliverEvents()).map((d) => [d.type, d.status])).toEqual([["invoice.paid", 200]]);
      expect((await p.call("GET", "/v1/usage", { token: c.key })).status).toBe(200);
    });

    it("a forged or 301 s old signature is a 400 (logged); a redelivered event is acknowledged, not reprocessed", async () => {
      await failedInvoice();
      const event = p.stripe.state.events.find((e) => e.type === "invoice.payment_failed");
      if (!event) throw new Error("no event");
      const payload = JSON.stringify(event);
      const now = Math.floor(p.clock.now() / 1000);
      for (const header of [
        await signatureHeader(payload, "whsec_forged", now),
        await signatureHeader(payload, SECRET, now - 301),
        "t=1,v1=deadbeef",
      ]) {
        const r = await p.call("POST", "/stripe/webhook", { raw: payload, headers: { "stripe-signature": header } });
        expect(r.status).toBe(400);
        expect(r.json.error?.code).toBe("STRIPE_SIGNATURE_INVALID");
      }
      expect((await p.call("POST", "/stripe/webhook", { raw: payload })).json.error?.code).toBe(
        "STRIPE_SIGNATURE_INVALID",
      );
      expect(p.logs.filter((l) => l.msg === "stripe webhook rejected: bad signature")).toHaveLength(4);
      const first = await p.stripe.sendEvent(event);
      const second = await p.stripe.sendEvent(event);
      expect([first, second]).toEqual([200, 200]);
      const again = await p.call("POST", "/stripe/webhook", {
        raw: payload,
        headers: { "stripe-signature": await signatureHeader(payload, SECRET, now) },
      });
      expect(again.json).toMatchObject({ received: true, duplicate: true });
      // Processed exactly once across the three valid deliveries.
      expect(p.logs.filter((l) => l.msg === "stripe webhook processed" && l.event_id === event.id)).toHaveLength(1);
    });

    it("a validly signed body that is not an event is a 400 with a stable code (never a 500, never a signature failure)", async () => {
      const now = Math.floor(p.clock.now() / 1000);
      for (const [raw, code] of [
        ["[]", "WEBHOOK_EVENT_INVALID"],
        ['{"type":"invoice.paid","data":{"object":{}}}', "WEBHOOK_EVENT_INVALID"],
        ["{oops", "INVALID_JSON"],
      ] as const) {
        const r = await p.call("POST", "/stripe/webhook", {
          raw,
          headers: { "stripe-signature": await signatureHeader(raw, SECRET, now) },
        });
        expect([r.status, r.json.error?.code], raw).toEqual([400, code]);
      }
    });

    it("an event about an object this system does not know is acknowledged (200) and logged", async () => {
      const stranger = await p.stripe.client().customers.create({});
      const draft = await p.stripe.client().invoices.create({ customer: stranger.id });
      await p.stripe
        .client()
        .invoiceItems.create({ customer: stranger.id, invoice: draft.id, amount: 100, currency: "usd" });
      await p.stripe.client().invoices.finalizeInvoice(draft.id);
      await p.stripe.client().invoices.pay(draft.id, { paid_out_of_band: true });
      const delivered = await p.stripe.deliverEvents();
      expect(delivered.every((d) => d.status === 200)).toBe(true);
      expect(p.logs.filter((l) => l.msg === "stripe webhook about an unknown object")).toHaveLength(1);
    });
  });
});

describe("billing routes without Stripe configured", () => {
  let p: Proxy;
  beforeEach(async () => {
    p = await startBillingProxy({ stripe: false });
  });
  afterEach(async () => {
    await p.close();
  });

  it("answer a clear 501 BILLING_NOT_CONFIGURED, never a crash; the rest of the proxy is unaffected", async () => {
    const c = await p.newCustomer("basic");
    const portal = await p.call("POST", "/v1/billing/portal", { token: c.key });
    expect(portal.status).toBe(501);
    expect(portal.json.error).toMatchObject({
      code: "BILLING_NOT_CONFIGURED",
      message: expect.stringMatching(/STRIPE_SECRET_KEY/),
    });
    expect(
      (await p.call("POST", "/stripe/webhook", { raw: "{}", headers: { "stripe-signature": "t=1,v1=00" } })).json.error
        ?.code,
    ).toBe("BILLING_NOT_CONFIGURED");
    expect((await p.admin("POST", "/admin/billing/reconcile", { period: "2026-01" })).status).toBe(501);
    expect((await p.admin("GET", "/admin/billing/reports/2026-01")).status).toBe(200);
    const price = await p.admin("POST", "/admin/plans/basic/prices", {
      unit_price_micros_per_1k_tokens: 25_000,
      effective_from: Date.UTC(2026, 5, 1),
    });
    expect(price.status).toBe(201);
    expect(price.json.stripe).toBeUndefined();
    expect((await p.call("GET", "/v1/usage", { token: c.key })).status).toBe(200);
  });
});
