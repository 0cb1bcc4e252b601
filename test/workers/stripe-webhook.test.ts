import { env } from "cloudflare:workers";
import Stripe from "stripe";
import { beforeEach, describe, expect, it } from "vitest";
import { BillingService } from "../../billing/src/service.ts";
import { createSqlBillingStores } from "../../billing/src/store/sql/index.ts";
import { createD1Stores, openD1 } from "../../proxy/src/adapters/workers/d1/index.ts";
import { createEdgeProxy } from "../../proxy/src/adapters/workers/edge-proxy.ts";
import { ManualClock } from "../../proxy/src/store/testing/harness.ts";
import { emptyDatabase } from "./d1.ts";
import { isolate, request, self } from "./helpers.ts";

const SECRET = "whsec_edge_test_secret";
const crypto = Stripe.createSubtleCryptoProvider();

/** A Stripe event signed the way Stripe signs it, with the SDK's own test helper (Web Crypto, as in workerd). */
async function signed(event: object, options: { secret?: string; timestamp?: number } = {}) {
  const payload = JSON.stringify(event);
  const header = await Stripe.webhooks.generateTestHeaderStringAsync({
    payload,
    secret: options.secret ?? SECRET,
    ...(options.timestamp !== undefined ? { timestamp: options.timestamp } : {}),
    cryptoProvider: crypto,
  });
  return { payload, header };
}

const invoiceFailed = (id: string, stripeCustomer: string, customerId: string) => ({
  id,
  object: "event",
  type: "invoice.payment_failed",
  created: 1_767_225_600,
  data: {
    object: { id: `in_${id}`, object: "invoice", customer: stripeCustomer, metadata: { customer_id: customerId } },
  },
});

// Billing's webhook core (`POST /stripe/webhook` once the route is in createApp) in workerd: Web Crypto signature
// checks with the official SDK, dedupe by event id and dunning on D1.
describe("Stripe webhook verification in workerd, on D1", () => {
  let clock: ManualClock;
  let service: BillingService;
  let stores: ReturnType<typeof createD1Stores>;

  beforeEach(async () => {
    await emptyDatabase(env.DB);
    clock = new ManualClock(Date.now());
    const db = openD1(env.DB);
    stores = createD1Stores(db, { clock });
    await stores.plans.upsertPlan({
      id: "basic",
      kind: "basic",
      name: "Basic",
      currency: "USD",
      timeZone: "UTC",
      requestsPerSecond: 5,
      burst: 10,
      maxInFlight: 2,
    });
    await stores.customers.createCustomer({
      id: "cus_edge",
      name: "Edge",
      email: "edge@example.com",
      planId: "basic",
      stripeCustomerId: "cus_StripeEdge",
    });
    service = new BillingService({
      customers: stores.customers,
      plans: stores.plans,
      billing: createSqlBillingStores(db, { clock }),
      stripe: null,
      webhookSecret: SECRET,
      clock,
    });
  });

  it("accepts a correctly signed event once, records the failed payment, and acknowledges its redelivery as a duplicate", async () => {
    const { payload, header } = await signed(invoiceFailed("evt_1", "cus_StripeEdge", "cus_edge"), {
      timestamp: Math.floor(clock.now() / 1000),
    });
    const first = await service.handleWebhook(new TextEncoder().encode(payload), header);
    expect(first).toMatchObject({ status: 200, body: { received: true, event_id: "evt_1" } });
    const unpaid = await createSqlBillingStores(openD1(env.DB), { clock }).dunning.unpaidFor("cus_edge");
    expect(unpaid.map((u) => [u.stripeInvoiceId, u.failures])).toEqual([["in_evt_1", 1]]);

    const again = await service.handleWebhook(payload, header);
    expect(again).toMatchObject({ status: 200, body: { duplicate: true } });
    const still = await createSqlBillingStores(openD1(env.DB), { clock }).dunning.unpaidFor("cus_edge");
    expect(still[0]?.failures).toBe(1);
  });

  it("refuses a tampered body, another secret, a missing header and a signature older than 300 s", async () => {
    const now = Math.floor(clock.now() / 1000);
    const good = await signed(invoiceFailed("evt_2", "cus_StripeEdge", "cus_edge"), { timestamp: now });
    const attempts: [string, () => Promise<unknown>][] = [
      ["tampered", () => service.handleWebhook(good.payload.replace("cus_edge", "cus_other"), good.header)],
      [
        "other secret",
        async () => {
          const s = await signed(invoiceFailed("evt_3", "cus_StripeEdge", "cus_edge"), {
            secret: "whsec_forged",
            timestamp: now,
          });
          return service.handleWebhook(s.payload, s.header);
        },
      ],
      ["missing header", () => service.handleWebhook(good.payload, null)],
      [
        "too old",
        async () => {
          const s = await signed(invoiceFailed("evt_4", "cus_StripeEdge", "cus_edge"), { timestamp: now - 301 });
          return service.handleWebhook(s.payload, s.header);
        },
      ],
    ];
    for (const [what, attempt] of attempts) {
      const error = await attempt().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error, what).toMatchObject({ code: "STRIPE_SIGNATURE_INVALID", status: 400 });
    }
    expect(await createSqlBillingStores(openD1(env.DB), { clock }).webhooks.get("evt_2")).toBeNull();
    // 299 s old is still inside the tolerance.
    const recent = await signed(invoiceFailed("evt_5", "cus_StripeEdge", "cus_edge"), { timestamp: now - 299 });
    expect((await service.handleWebhook(recent.payload, recent.header)).status).toBe(200);
  });

  it("POST /stripe/webhook on the Worker: raw-body signature, 200 once, duplicate after, 400 when forged, 501 without a secret", async () => {
    const worker = isolate(createEdgeProxy({ ...env, STRIPE_WEBHOOK_SECRET: SECRET }));
    const post = (payload: string, signature: string | null, target = worker) =>
      target(
        request("/stripe/webhook", {
          method: "POST",
          headers: { "content-type": "application/json", ...(signature ? { "stripe-signature": signature } : {}) },
          body: payload,
        }),
      );
    const { payload, header } = await signed(invoiceFailed("evt_http", "cus_StripeEdge", "cus_edge"));
    const first = await post(payload, header);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ received: true, event_id: "evt_http", type: "invoice.payment_failed" });
    expect(await (await post(payload, header)).json()).toMatchObject({ duplicate: true });

    const forged = await post(payload.replace("cus_edge", "cus_x"), header);
    expect(forged.status).toBe(400);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe("STRIPE_SIGNATURE_INVALID");
    // The deployed Worker of these tests has no STRIPE_WEBHOOK_SECRET: the endpoint says so.
    const unconfigured = await post(payload, header, self);
    expect(unconfigured.status).toBe(501);
    expect(((await unconfigured.json()) as { error: { code: string } }).error.code).toBe("BILLING_NOT_CONFIGURED");
  });
});
