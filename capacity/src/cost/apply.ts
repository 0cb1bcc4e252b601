/**
 * `--apply`: writes the recommended prices as new price versions through the proxy's admin API
 * (POST /admin/plans/:id/prices), in integer micro-units, one per plan kind:
 * - basic: the basic price per 1k tokens with the measured peak multiplier;
 * - batch: the same unit price with the batch discount (the rating takes it off and never adds the peak surcharge);
 * - enterprise: the monthly fee for a dedicated GPU, the tokens included and the overage price.
 * Each plan keeps the peak windows of its current version. A plan priced in another currency is refused, not
 * converted. Bodies are checked against the admin API's own schema before they are sent.
 */
import type { PeakWindow } from "../../../domain/peak.ts";
import { priceVersionBodySchema } from "../../../proxy/src/http/schemas.ts";
import type { AppliedPrice } from "../report/types.ts";
import { adminRequest } from "../stack/embedded.ts";
import type { CostResult } from "./model.ts";

export interface ApplyTarget {
  adminUrl: string;
  adminToken: string;
  plans: { basic: string; batch: string; enterprise: string };
}

interface PlanRow {
  id: string;
  kind: string;
  currency: string;
}

interface VersionRow {
  peakWindows?: PeakWindow[];
}

export function priceBodies(c: CostResult): Record<"basic" | "batch" | "enterprise", Record<string, unknown>> {
  const common = {
    unit_price_micros_per_1k_tokens: c.basic.per1kTokensMicros,
    peak_multiplier_bp: c.peak.multiplierBp,
    batch_discount_bp: c.batch.discountBp,
  };
  return {
    basic: { ...common, monthly_fee_micros: 0, included_tokens: 0 },
    batch: { ...common, monthly_fee_micros: 0, included_tokens: 0 },
    enterprise: {
      ...common,
      monthly_fee_micros: c.enterprise.monthlyFeeMicros,
      included_tokens: c.enterprise.includedTokens,
      overage_price_micros_per_1k_tokens: c.enterprise.overagePer1kMicros,
    },
  };
}

export async function applyPrices(cost: CostResult, t: ApplyTarget): Promise<AppliedPrice[]> {
  const admin = (method: string, path: string, body?: unknown) =>
    adminRequest(t.adminUrl, t.adminToken, method, path, body);
  const plans = await admin("GET", "/admin/plans");
  if (plans.status !== 200) throw new Error(`GET /admin/plans → ${plans.status} ${JSON.stringify(plans.json)}`);
  const known = new Map(((plans.json.plans as PlanRow[] | undefined) ?? []).map((p) => [p.id, p]));
  const bodies = priceBodies(cost);
  const out: AppliedPrice[] = [];
  for (const kind of ["basic", "batch", "enterprise"] as const) {
    const planId = t.plans[kind];
    const plan = known.get(planId);
    const base = { plan: planId, version: null, body: bodies[kind] };
    if (!plan) {
      out.push({ ...base, status: 404, error: `no plan ${planId}` });
      continue;
    }
    if (plan.currency.toUpperCase() !== cost.currency.toUpperCase()) {
      out.push({
        ...base,
        status: 0,
        error: `plan ${planId} is priced in ${plan.currency}, these prices are in ${cost.currency}: not applied (use --currency ${plan.currency})`,
      });
      continue;
    }
    const versions = await admin("GET", `/admin/plans/${encodeURIComponent(planId)}/prices`);
    const list = (versions.json.versions as VersionRow[] | undefined) ?? [];
    const body = { ...bodies[kind], peak_windows: list[list.length - 1]?.peakWindows ?? [] };
    const checked = priceVersionBodySchema.safeParse(body);
    if (!checked.success) {
      out.push({ ...base, body, status: 0, error: `invalid body: ${checked.error.message}` });
      continue;
    }
    const res = await admin("POST", `/admin/plans/${encodeURIComponent(planId)}/prices`, body);
    const version = (res.json.version as { version?: number } | undefined)?.version ?? null;
    out.push({
      plan: planId,
      status: res.status,
      version,
      body,
      ...(res.status === 201 ? {} : { error: JSON.stringify(res.json) }),
    });
  }
  return out;
}
