import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import Stripe from "stripe";
import { beforeAll, describe, expect, it } from "vitest";
import { createD1Stores, openD1 } from "../../proxy/src/adapters/workers/d1/index.ts";
import worker from "../../proxy/src/entry.workers.ts";
import { request, self } from "./helpers.ts";

/** The local server's key (test/workers-global-setup.ts; its module imports Node servers, so not imported here). */
const TEST_SECRET_KEY = env.STRIPE_TEST_SECRET_KEY;

/** The Worker's env with Stripe configured: the SDK on fetch, pointed at billing's local Stripe-compatible server. */
const billingEnv = {
  ...env,
  STRIPE_SECRET_KEY: TEST_SECRET_KEY,
  STRIPE_API_BASE: env.STRIPE_TEST_API_BASE,
  // Reconcile last month now, whatever the time of day (the default waits 15 minutes after the month closes).
  BILLING_SETTLE_MINUTES: "0",
} as typeof env;

async function cron(): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: "* * * * *" }), billingEnv, ctx);
  await waitOnExecutionContext(ctx);
}

const stripe = () => {
  const base = new URL(env.STRIPE_TEST_API_BASE);
  return new Stripe(TEST_SECRET_KEY, {
    host: base.hostname,
    port: Number(base.port),
    protocol: "http",
    httpClient: Stripe.createFetchHttpClient(),
    maxNetworkRetries: 0,
  });
};

describe("the cron trigger reconciles last month into Stripe from the Worker", () => {
  const now = new Date();
  const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1);
  const period = new Date(monthStart).toISOString().slice(0, 7);
  const customerId = `cus_edge_${crypto.randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    expect((await self(request("/healthz"))).status).toBe(200);
    const stores = createD1Stores(openD1(env.DB));
    await stores.plans.upsertPlan({
      id: "edgebill",
      kind: "basic",
      name: "Edge billing",
      currency: "USD",
      timeZone: "UTC",
      requestsPerSecond: 5,
      burst: 10,
      maxInFlight: 2,
    });
    // Fixture: a version in force since the start of last month (the store refuses past dates, rightly).
    await env.DB.prepare(
      "insert into price_versions (id, plan_id, version, effective_from, unit_price_micros_per_1k_tokens, created_at) values ('pv_edgebill_1', 'edgebill', 1, ?1, 20000, ?1)",
    )
      .bind(monthStart)
      .run();
    await stores.customers.createCustomer({
      id: customerId,
      name: "Edge",
      email: "edge@example.com",
      planId: "edgebill",
    });
    const key = await stores.keys.issueKey(customerId);
    if (!key.ok) throw new Error("no key");
    const event = {
      customerId,
      apiKeyId: key.value.id,
      planId: "edgebill",
      priceVersionId: "pv_edgebill_1",
      audioMs: 1_000,
      inputChars: 10,
      peak: false,
      multiplierBp: 10_000,
      currency: "USD",
      nodeId: null,
      priority: "interactive" as const,
    };
    // 5,000 + 1,234 tokens at 0.02 USD per 1,000: 124,680 micro-USD, of which 12 cents can be invoiced.
    await stores.ledger.append([
      {
        ...event,
        requestId: `${customerId}-1`,
        occurredAt: monthStart + 86_400_000,
        tokens: 5_000,
        amountMicros: 100_000,
      },
      {
        ...event,
        requestId: `${customerId}-2`,
        occurredAt: monthStart + 2 * 86_400_000,
        tokens: 1_234,
        amountMicros: 24_680,
      },
    ]);
  });

  it("creates one finalised invoice equal to the ledger, records the sync in D1, and a second run adds nothing", async () => {
    await cron();
    const sync = await env.DB.prepare(
      "select state, billed_micros, carry_out_micros, total_minor, stripe_customer_id, stripe_invoice_id from billing_invoice_syncs where customer_id = ?1 and period = ?2",
    )
      .bind(customerId, period)
      .first<Record<string, string | number>>();
    expect(sync).toMatchObject({
      state: "reconciled",
      billed_micros: 120_000,
      carry_out_micros: 4_680,
      total_minor: 12,
    });
    const invoices = await stripe().invoices.list({ customer: String(sync?.stripe_customer_id) });
    expect(invoices.data.map((i) => [i.id, i.total, i.currency, i.status === "draft"])).toEqual([
      [sync?.stripe_invoice_id, 12, "usd", false],
    ]);

    await cron();
    expect((await stripe().invoices.list({ customer: String(sync?.stripe_customer_id) })).data).toHaveLength(1);
  });
});
