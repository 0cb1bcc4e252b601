import type { Context, Hono, MiddlewareHandler } from "hono";
import { z } from "zod";
import { isBillingError } from "../../../../billing/src/errors.ts";
import { PRICE_ROLES } from "../../../../billing/src/reconcile/catalog-sync.ts";
import type { BillingService } from "../../../../billing/src/service.ts";
import { currencyRules } from "../../../../domain/money.ts";
import { ProxyError } from "../../core/errors.ts";
import { sha256Hex, timingSafeEqualHex } from "../../store/crypto.ts";
import type { ProxyDeps, ProxyEnv } from "../deps.ts";
import { ipRateLimit } from "../middleware.ts";
import { readJson } from "../read-json.ts";
import { rawBody } from "./raw-body.ts";

/** Batch must stay at least 30 % below the list price: a batch version's discount is ≥ 3,000 basis points. */
export const MIN_BATCH_DISCOUNT_BP = 3_000;

const reconcileBodySchema = z.object({
  period: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, "period must be YYYY-MM"),
  customer_ids: z.array(z.string().min(1)).max(1_000).optional(),
});

/** Billing errors in the proxy's one envelope and its stable codes. */
export function toProxyError(e: unknown): unknown {
  if (!isBillingError(e)) return e;
  switch (e.code) {
    case "BILLING_NOT_CONFIGURED":
      return new ProxyError("BILLING_NOT_CONFIGURED", e.message);
    case "STRIPE_SIGNATURE_INVALID":
      return new ProxyError("STRIPE_SIGNATURE_INVALID", e.message);
    case "BILLING_UNAVAILABLE":
      return new ProxyError("BILLING_UNAVAILABLE", e.message);
    case "INVALID_JSON":
      return new ProxyError("INVALID_JSON", e.message);
    case "WEBHOOK_EVENT_INVALID":
      return new ProxyError("WEBHOOK_EVENT_INVALID", e.message);
    default:
      return new ProxyError("INVALID_REQUEST", e.message);
  }
}

export async function billing<T>(deps: ProxyDeps, call: (b: BillingService) => Promise<T>): Promise<T> {
  if (!deps.billing) throw new ProxyError("BILLING_NOT_CONFIGURED", "billing is not configured on this proxy");
  try {
    return await call(deps.billing);
  } catch (e) {
    throw toProxyError(e);
  }
}

/**
 * `Authorization: Bearer <key>` or `x-api-key`, as `apiKeyAuth`, except that a suspended customer is let through:
 * the billing portal is where a customer suspended for an unpaid invoice pays it.
 */
function portalKeyAuth(deps: ProxyDeps): MiddlewareHandler<ProxyEnv> {
  const sha256 = deps.sha256 ?? sha256Hex;
  return async function portalKeyAuthMiddleware(c, next) {
    const m = /^Bearer\s+(.+)$/i.exec(c.req.header("authorization") ?? "");
    const key = c.req.header("x-api-key")?.trim() ?? m?.[1]?.trim();
    if (!key) {
      throw new ProxyError("MISSING_API_KEY", "send your API key as 'Authorization: Bearer <key>' or 'x-api-key'");
    }
    const hash = await sha256(key);
    const found = await deps.stores.keys.findActiveByHash(hash);
    if (!found || !timingSafeEqualHex(found.key.hash, hash)) {
      throw new ProxyError("INVALID_API_KEY", "the API key is unknown or revoked");
    }
    c.set("auth", found);
    await next();
  };
}

/**
 * `POST /v1/billing/portal`: a Stripe billing portal session URL for the caller's customer. Register before the
 * `/v1/*` middleware: it has the per-IP limit and its own key check, which admits suspended customers.
 */
export function registerBillingRoutes(app: Hono<ProxyEnv>, deps: ProxyDeps): void {
  app.use("/v1/billing/portal", ipRateLimit(deps), portalKeyAuth(deps));
  app.post("/v1/billing/portal", async (c) => {
    const { customer } = c.get("auth");
    const session = await billing(deps, (b) => b.portalSession(customer));
    return c.json({ url: session.url, id: session.id });
  });
}

/**
 * The admin side of billing (behind the admin token; register after the admin middleware and before the admin
 * routes): reconcile a period, read its report, and the Stripe side of the admin API's price and customer endpoints —
 * a price version is checked against billing's rules before it is stored and mirrored to new Stripe prices after;
 * a new customer gets its Stripe customer (and an enterprise one its subscription).
 */
export function registerBillingAdminRoutes(app: Hono<ProxyEnv>, deps: ProxyDeps): void {
  app.post("/admin/billing/reconcile", async (c) => {
    const body = await readJson(c, reconcileBodySchema);
    const report = await billing(deps, (b) =>
      b.reconcile(body.period, body.customer_ids ? { customerIds: body.customer_ids } : {}),
    );
    return c.json({ report });
  });
  app.get("/admin/billing/reports/:period", async (c) => {
    const report = await billing(deps, (b) => b.report(c.req.param("period")));
    return c.json({ report });
  });
  app.post("/admin/billing/customers/:id/sync", async (c) => {
    const synced = await billing(deps, (b) => b.syncCustomer(c.req.param("id")));
    return c.json({ stripe: synced });
  });

  // Middleware (method "ALL"), not routes: the admin routes stay the only handlers of these paths.
  app.use("/admin/plans/:id/prices", async (c, next) => {
    if (c.req.method !== "POST") return next();
    await checkPriceRules(c, deps);
    await next();
    if (c.res.status !== 201 || !deps.billing?.stripeConfigured) return;
    const body = (await c.res.clone().json()) as { version: { id: string; planId: string } };
    const stripe = await deps.billing
      .mirrorPriceVersion(body.version.planId, body.version.id)
      .then((prices) => ({ prices }))
      .catch((e: unknown) => {
        deps.log?.({
          level: "error",
          msg: "price version not mirrored to Stripe",
          version: body.version.id,
          error: String(e),
        });
        return {
          error: `not mirrored yet (the next billing run retries): ${e instanceof Error ? e.message : String(e)}`,
        };
      });
    c.res = rewrite(c.res, { ...body, stripe });
  });

  app.use("/admin/customers", async (c, next) => {
    await next();
    if (c.req.method !== "POST") return;
    if (c.res.status !== 201 || !deps.billing?.stripeConfigured) return;
    const body = (await c.res.clone().json()) as { customer: { id: string } };
    const stripe = await deps.billing.syncCustomer(body.customer.id).catch((e: unknown) => {
      deps.log?.({
        level: "error",
        msg: "customer not synced to Stripe",
        customer_id: body.customer.id,
        error: String(e),
      });
      return { error: `not in Stripe yet (created on first need): ${e instanceof Error ? e.message : String(e)}` };
    });
    c.res = rewrite(c.res, { ...body, stripe });
  });
}

function rewrite(res: Response, body: unknown): Response {
  const headers = new Headers(res.headers);
  headers.delete("content-length");
  return new Response(JSON.stringify(body), { status: res.status, headers });
}

const priceRulesSchema = z
  .object({
    batch_discount_bp: z.number().optional(),
    monthly_fee_micros: z.number().optional(),
  })
  .loose();

/** Billing's rules for a new price version, before the admin route stores it (400 on a breach). */
async function checkPriceRules(c: Context<ProxyEnv>, deps: ProxyDeps): Promise<void> {
  const plan = await deps.stores.plans.getPlan(c.req.param("id") ?? "");
  if (!plan) return; // the admin route answers 404
  // A copy of the body: the admin route reads the original after this.
  let raw: unknown;
  try {
    const bytes = await rawBody(c.req.raw.clone(), deps.config.maxBodyBytes);
    raw = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return; // the admin route answers 400 INVALID_JSON or 413
  }
  const body = priceRulesSchema.safeParse(raw);
  if (!body.success) return;
  if (plan.kind === "batch" && (body.data.batch_discount_bp ?? 0) < MIN_BATCH_DISCOUNT_BP) {
    throw new ProxyError(
      "INVALID_REQUEST",
      `a batch plan's price must be at least 30 % below the list price: batch_discount_bp must be ≥ ${MIN_BATCH_DISCOUNT_BP}`,
    );
  }
  const fee = body.data.monthly_fee_micros ?? 0;
  if (PRICE_ROLES[plan.kind].includes("fee") && Number.isSafeInteger(fee)) {
    const step = currencyRules(plan.currency).microsPerStep;
    if (fee % step !== 0) {
      throw new ProxyError(
        "INVALID_REQUEST",
        `monthly_fee_micros must be a whole number of ${plan.currency} chargeable units (a multiple of ${step} micros): Stripe bills the fee as is`,
      );
    }
  }
}
