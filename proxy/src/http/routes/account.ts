import type { Hono } from "hono";
import { ProxyError } from "../../core/errors.ts";
import type { UsageTotals } from "../../store/ports.ts";
import type { ProxyDeps, ProxyEnv } from "../deps.ts";
import { customerUsageQuerySchema } from "../schemas.ts";
import { currencyTotals } from "../usage-totals.ts";

const DAY_MS = 86_400_000;

/** GET /v1/voices and GET /v1/usage (the caller's own usage by day and plan, peak vs off-peak). */
export function registerAccountRoutes(app: Hono<ProxyEnv>, deps: ProxyDeps): void {
  app.get("/v1/voices", (c) => c.json({ voices: deps.voices() }));

  app.get("/v1/usage", async (c) => {
    const q = customerUsageQuerySchema.safeParse(c.req.query());
    if (!q.success) throw new ProxyError("INVALID_REQUEST", "from/to must be epoch milliseconds");
    const now = (deps.now ?? Date.now)();
    const toMs = q.data.to ?? now + 1;
    const fromMs = q.data.from ?? toMs - 31 * DAY_MS;
    const { customer, plan } = c.get("auth");
    const [days, byPlan] = await Promise.all([
      deps.stores.ledger.usageByDay({ customerId: customer.id, fromMs, toMs, timeZone: plan.timeZone }),
      deps.stores.ledger.totals({ customerId: customer.id, fromMs, toMs, byPlan: true }),
    ]);
    const totalsView = (t: UsageTotals) => ({
      currency: t.currency,
      requests: t.events,
      tokens: t.tokens,
      peak_tokens: t.peakTokens,
      audio_ms: t.audioMs,
      amount_micros: t.amountMicros,
    });
    return c.json({
      customer_id: customer.id,
      plan: plan.id,
      time_zone: plan.timeZone,
      from: fromMs,
      to: toMs,
      days: days.map((d) => ({
        day: d.day,
        plan: d.planId,
        peak: d.peak,
        requests: d.events,
        tokens: d.tokens,
        audio_ms: d.audioMs,
        amount_micros: d.amountMicros,
        currency: d.currency,
      })),
      // Per plan the usage was charged under (a plan change mid-range shows both), then per currency.
      plans: byPlan.map((t) => ({ plan: t.planId ?? "", ...totalsView(t) })),
      totals: currencyTotals(byPlan).map(totalsView),
    });
  });
}
