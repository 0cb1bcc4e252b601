import type { Hono } from "hono";
import { validatePeakWindows } from "../../../../domain/peak.ts";
import { ProxyError } from "../../core/errors.ts";
import type { ProxyDeps, ProxyEnv } from "../deps.ts";
import { readJson, readOptionalJson } from "../read-json.ts";
import {
  adminUsageQuerySchema,
  customerBodySchema,
  nodeBodySchema,
  planBodySchema,
  priceVersionBodySchema,
  suspendBodySchema,
} from "../schemas.ts";
import { currencyTotals } from "../usage-totals.ts";

const notFound = (what: string) => new ProxyError("NOT_FOUND", `${what} not found`);
const param = (value: string | undefined) => value ?? "";

/** The admin API (behind the admin token): customers, keys, plans and price versions, nodes, usage. */
export function registerAdminRoutes(app: Hono<ProxyEnv>, deps: ProxyDeps): void {
  const { stores } = deps;
  const max = deps.config.maxBodyBytes;

  app.post("/admin/customers", async (c) => {
    const body = await readJson(c, customerBodySchema, max);
    const r = await stores.customers.createCustomer({
      name: body.name,
      email: body.email,
      planId: body.plan_id,
      dedicatedPool: body.dedicated_pool ?? null,
    });
    if (!r.ok) throw new ProxyError(r.error === "id_taken" ? "CONFLICT" : "INVALID_REQUEST", r.message);
    return c.json({ customer: r.value }, 201);
  });
  app.get("/admin/customers", async (c) => c.json({ customers: await stores.customers.list() }));
  app.get("/admin/customers/:id", async (c) => {
    const customer = await stores.customers.getCustomer(param(c.req.param("id")));
    if (!customer) throw notFound("customer");
    return c.json({ customer, keys: await stores.keys.listForCustomer(customer.id) });
  });
  app.post("/admin/customers/:id/suspend", async (c) => {
    const { reason } = await readOptionalJson(c, suspendBodySchema, max);
    const customer = await stores.customers.suspend(param(c.req.param("id")), reason);
    if (!customer) throw notFound("customer");
    return c.json({ customer });
  });
  app.post("/admin/customers/:id/restore", async (c) => {
    const customer = await stores.customers.restore(param(c.req.param("id")));
    if (!customer) throw notFound("customer");
    return c.json({ customer });
  });

  app.post("/admin/customers/:id/keys", async (c) => {
    const r = await stores.keys.issueKey(param(c.req.param("id")));
    if (!r.ok) throw notFound("customer");
    // The only time the key is shown: only its SHA-256 is stored.
    return c.json({ id: r.value.id, key: r.value.key, prefix: r.value.prefix }, 201);
  });
  app.get("/admin/customers/:id/keys", async (c) => {
    const customer = await stores.customers.getCustomer(param(c.req.param("id")));
    if (!customer) throw notFound("customer");
    return c.json({ keys: await stores.keys.listForCustomer(customer.id) });
  });
  app.delete("/admin/keys/:id", async (c) => {
    const key = await stores.keys.revoke(param(c.req.param("id")));
    if (!key) throw notFound("key");
    return c.json({ key });
  });

  app.put("/admin/plans/:id", async (c) => {
    const body = await readJson(c, planBodySchema, max);
    const r = await stores.plans.upsertPlan({
      id: param(c.req.param("id")),
      kind: body.kind,
      name: body.name,
      currency: body.currency.toUpperCase(),
      timeZone: body.time_zone,
      requestsPerSecond: body.requests_per_second,
      burst: body.burst,
      maxInFlight: body.max_in_flight,
    });
    if (!r.ok) throw new ProxyError("INVALID_REQUEST", r.message);
    return c.json({ plan: r.value });
  });
  app.get("/admin/plans", async (c) => c.json({ plans: await stores.plans.listPlans() }));
  app.get("/admin/plans/:id/prices", async (c) =>
    c.json({ versions: await stores.plans.listVersions(param(c.req.param("id"))) }),
  );
  app.post("/admin/plans/:id/prices", async (c) => {
    const body = await readJson(c, priceVersionBodySchema, max);
    const problems = validatePeakWindows(body.peak_windows);
    if (problems.length > 0) throw new ProxyError("INVALID_REQUEST", `invalid peak windows: ${problems.join("; ")}`);
    const r = await stores.plans.addPriceVersion(param(c.req.param("id")), {
      ...(body.effective_from !== undefined ? { effectiveFrom: body.effective_from } : {}),
      unitPriceMicrosPer1kTokens: body.unit_price_micros_per_1k_tokens,
      peakWindows: body.peak_windows,
      peakMultiplierBp: body.peak_multiplier_bp,
      batchDiscountBp: body.batch_discount_bp,
      monthlyFeeMicros: body.monthly_fee_micros,
      includedTokens: body.included_tokens,
      overagePriceMicrosPer1kTokens: body.overage_price_micros_per_1k_tokens ?? null,
    });
    if (!r.ok) throw r.error === "plan_not_found" ? notFound("plan") : new ProxyError("INVALID_REQUEST", r.message);
    return c.json({ version: r.value }, 201);
  });

  app.post("/admin/nodes", async (c) => {
    const body = await readJson(c, nodeBodySchema, max);
    const r = await stores.nodes.add({ url: body.url.replace(/\/+$/, ""), pool: body.pool, weight: body.weight });
    if (!r.ok) throw new ProxyError(r.error === "invalid" ? "INVALID_REQUEST" : "CONFLICT", r.message);
    deps.nodes.upsert({ id: r.value.id, url: r.value.url, pool: r.value.pool, weight: r.value.weight });
    deps.breakers.addNode(r.value.id, r.value.pool);
    return c.json({ node: r.value }, 201);
  });
  app.get("/admin/nodes", async (c) => {
    const breakers = new Map(deps.breakers.snapshot().map((b) => [b.nodeId, b]));
    return c.json({
      nodes: (await stores.nodes.list()).map((n) => ({
        ...n,
        live: deps.nodes.get(n.id) ?? null,
        breaker: breakers.get(n.id) ?? null,
      })),
    });
  });
  app.post("/admin/nodes/:id/drain", async (c) => {
    const node = await stores.nodes.setState(param(c.req.param("id")), "draining");
    if (!node) throw notFound("node");
    deps.nodes.setDraining(node.id, true);
    return c.json({ node });
  });
  app.post("/admin/nodes/:id/activate", async (c) => {
    const node = await stores.nodes.setState(param(c.req.param("id")), "active");
    if (!node) throw notFound("node");
    deps.nodes.setDraining(node.id, false);
    return c.json({ node });
  });
  app.delete("/admin/nodes/:id", async (c) => {
    const id = param(c.req.param("id"));
    if (!(await stores.nodes.remove(id))) throw notFound("node");
    deps.nodes.remove(id);
    deps.breakers.removeNode(id);
    return c.json({ removed: id });
  });

  app.get("/admin/usage", async (c) => {
    const q = adminUsageQuerySchema.safeParse(c.req.query());
    if (!q.success) {
      throw new ProxyError("INVALID_REQUEST", "invalid usage query", { details: q.error.issues });
    }
    const { from: fromMs, customer_id: customerId, limit, after } = q.data;
    const toMs = q.data.to ?? (deps.now ?? Date.now)() + 1;
    if (customerId !== undefined) {
      const customer = await stores.customers.getCustomer(customerId);
      if (!customer) throw notFound("customer");
      const plan = await stores.plans.getPlan(customer.planId);
      const [plans, days] = await Promise.all([
        stores.ledger.totals({ customerId, fromMs, toMs, byPlan: true }),
        stores.ledger.usageByDay({ customerId, fromMs, toMs, timeZone: plan?.timeZone ?? "UTC" }),
      ]);
      const totals = currencyTotals(plans);
      return c.json({
        from: fromMs,
        to: toMs,
        totals,
        plans,
        customers: [{ customer_id: customerId, totals, plans, days }],
      });
    }
    // Every customer, one page at a time (by id), plus the grand totals of the range.
    const page = await stores.customers.list({ limit, ...(after !== undefined ? { afterId: after } : {}) });
    const [plans, perCustomer] = await Promise.all([
      // every customer's range: from the rollups where the store has them (the same figures, without a scan)
      stores.reports.totals({ fromMs, toMs, byPlan: true }),
      stores.reports.customerTotals({ customerIds: page.map((c) => c.id), fromMs, toMs }).then((rows) =>
        page.map((customer) => {
          const own = rows.filter((r) => r.customerId === customer.id).map(({ customerId: _, ...t }) => t);
          return { customer_id: customer.id, totals: currencyTotals(own), plans: own };
        }),
      ),
    ]);
    const last = page.at(-1);
    return c.json({
      from: fromMs,
      to: toMs,
      totals: currencyTotals(plans),
      plans,
      customers: perCustomer.filter((row) => row.totals.length > 0),
      next_after: page.length === limit && last ? last.id : null,
    });
  });
}
