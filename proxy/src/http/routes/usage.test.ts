import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInProcessProxy } from "../../testing/stack.ts";
import { RESPONSE_SCHEMAS } from "../openapi/index.ts";

type Proxy = Awaited<ReturnType<typeof createInProcessProxy>>;

/**
 * GET /v1/usage and GET /admin/usage split by day AND plan: a customer moved from plan to plan within the range has
 * usage under each, with the amounts each request was charged (integer micro-units, per currency).
 */
describe("usage by day and plan", () => {
  let proxy: Proxy;
  let customer: { id: string; key: string };
  /** what each request's answer said it cost, by plan */
  const charged = new Map<
    string,
    { requests: number; tokens: number; peakTokens: number; amount: number; currency: string }
  >();

  const tts = async (plan: string) => {
    const res = await proxy.request("/v1/tts", {
      method: "POST",
      headers: { "x-api-key": customer.key, "content-type": "application/json" },
      body: JSON.stringify({ text: "hello" }),
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const row = charged.get(plan) ?? { requests: 0, tokens: 0, peakTokens: 0, amount: 0, currency: "" };
    row.requests += 1;
    row.tokens += Number(res.headers.get("x-tokens"));
    // whether a request fell in its plan's peak window depends on the hour the test runs at
    if (res.headers.get("x-peak") === "true") row.peakTokens += Number(res.headers.get("x-tokens"));
    row.amount += Number(res.headers.get("x-amount-micros"));
    row.currency = res.headers.get("x-currency") ?? "";
    charged.set(plan, row);
  };
  const movePlan = async (planId: string) => {
    // Through the app's stores: the write clears its key cache, so the next request is charged under the new plan.
    const moved = await proxy.deps.stores.customers.update(customer.id, { planId });
    expect(moved.ok).toBe(true);
  };

  beforeAll(async () => {
    proxy = await createInProcessProxy({ config: { ipPolicy: { ratePerSecond: 10_000, burst: 10_000 } } });
    // A plan in another currency, priced differently from the defaults (20,000 µUSD per 1k tokens).
    const plan = await proxy.admin("PUT", "/admin/plans/pro-eur", {
      kind: "basic",
      name: "Pro (EUR)",
      currency: "EUR",
      time_zone: "UTC",
      requests_per_second: 100,
      burst: 100,
      max_in_flight: 8,
    });
    expect(plan.status).toBeLessThan(300);
    const price = await proxy.admin("POST", "/admin/plans/pro-eur/prices", { unit_price_micros_per_1k_tokens: 33_333 });
    expect(price.status).toBe(201);
    customer = await proxy.newCustomer("basic");
    await tts("basic");
    await tts("basic");
    await movePlan("batch");
    await tts("batch");
    await movePlan("pro-eur");
    await tts("pro-eur");
    await tts("pro-eur");
    await tts("pro-eur");
  });
  afterAll(async () => {
    await proxy.close();
  });

  it("GET /v1/usage: days and totals per plan charged under, then per currency, amounts in integer micro-units", async () => {
    const res = await proxy.request("/v1/usage", { headers: { "x-api-key": customer.key } });
    expect(res.status).toBe(200);
    const usage = RESPONSE_SCHEMAS.CustomerUsage.parse(await res.json());
    expect(usage.plan).toBe("pro-eur");
    // The three plans on (at most two, around midnight UTC) days.
    expect(new Set(usage.days.map((d) => d.plan))).toEqual(new Set(["basic", "batch", "pro-eur"]));
    for (const [plan, want] of charged) {
      const days = usage.days.filter((d) => d.plan === plan);
      expect(
        days.reduce((n, d) => n + d.requests, 0),
        plan,
      ).toBe(want.requests);
      expect(
        days.reduce((n, d) => n + d.amount_micros, 0),
        plan,
      ).toBe(want.amount);
      expect(days.every((d) => d.currency === want.currency)).toBe(true);
    }
    expect(usage.plans).toEqual(
      [...charged]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([plan, c]) => ({
          plan,
          currency: c.currency,
          requests: c.requests,
          tokens: c.tokens,
          peak_tokens: c.peakTokens,
          audio_ms: c.requests * 2000,
          amount_micros: c.amount,
        })),
    );
    // Prices differ: batch has its discount, pro-eur another price and currency.
    const amount = (plan: string) => (charged.get(plan)?.amount ?? 0) / (charged.get(plan)?.requests ?? 1);
    expect(new Set([amount("basic"), amount("batch"), amount("pro-eur")]).size).toBe(3);
    expect(amount("pro-eur")).toBe(Math.round((100 * 33_333) / 1000));
    // Per currency: USD adds basic and batch, EUR is pro-eur's; never added across currencies.
    const usd = (charged.get("basic")?.amount ?? 0) + (charged.get("batch")?.amount ?? 0);
    expect(usage.totals.map((t) => [t.currency, t.requests, t.amount_micros])).toEqual([
      ["EUR", 3, charged.get("pro-eur")?.amount],
      ["USD", 3, usd],
    ]);
    for (const row of [...usage.days, ...usage.plans, ...usage.totals]) {
      expect(Number.isSafeInteger(row.amount_micros)).toBe(true);
    }
  });

  it("GET /admin/usage: one customer's days and plans, and every customer's plans", async () => {
    const one = await proxy.admin("GET", `/admin/usage?customer_id=${customer.id}`);
    expect(one.status).toBe(200);
    const single = RESPONSE_SCHEMAS.AdminUsage.parse(one.json);
    const row = single.customers[0];
    expect(row?.plans.map((p) => [p.planId, p.currency, p.events, p.amountMicros])).toEqual(
      [...charged].sort(([a], [b]) => (a < b ? -1 : 1)).map(([plan, c]) => [plan, c.currency, c.requests, c.amount]),
    );
    expect(new Set(row?.days?.map((d) => d.planId))).toEqual(new Set(["basic", "batch", "pro-eur"]));
    expect(row?.days?.reduce((n, d) => n + d.amountMicros, 0)).toBe(
      [...charged.values()].reduce((n, c) => n + c.amount, 0),
    );
    expect(row?.totals.map((t) => t.currency)).toEqual(["EUR", "USD"]);

    // Another customer's usage on basic joins the across-customers plan rows, not this customer's.
    const other = await proxy.newCustomer("basic");
    const res = await proxy.request("/v1/tts", {
      method: "POST",
      headers: { "x-api-key": other.key, "content-type": "application/json" },
      body: JSON.stringify({ text: "hi" }),
    });
    expect(res.status).toBe(200);
    const otherAmount = Number(res.headers.get("x-amount-micros"));
    const all = RESPONSE_SCHEMAS.AdminUsage.parse((await proxy.admin("GET", "/admin/usage?limit=1000")).json);
    const mine = all.customers.find((c) => c.customer_id === customer.id);
    expect(mine?.plans.map((p) => p.planId)).toEqual(["basic", "batch", "pro-eur"]);
    expect(all.customers.find((c) => c.customer_id === other.id)?.plans.map((p) => p.planId)).toEqual(["basic"]);
    const basic = all.plans.find((p) => p.planId === "basic");
    expect(basic?.events).toBe((charged.get("basic")?.requests ?? 0) + 1);
    expect(basic?.amountMicros).toBe((charged.get("basic")?.amount ?? 0) + otherAmount);
    // Grand totals per currency are the sums of the plan rows.
    const usdPlans = all.plans.filter((p) => p.currency === "USD").reduce((n, p) => n + p.amountMicros, 0);
    expect(all.totals.find((t) => t.currency === "USD")?.amountMicros).toBe(usdPlans);
  });
});
