import type { Hono } from "hono";
import { periodAt, periodBounds, previousPeriod } from "../../../../billing/src/period.ts";
import type { Plan, PriceVersion } from "../../store/ports.ts";
import { repriceTokenCounts } from "../../store/usage-reports.ts";
import type { ConsoleDeps } from "../deps.ts";
import type { ConsoleContext, ConsoleEnv } from "../env.ts";
import { int, money, when } from "../format.ts";
import { formFields } from "../http.ts";
import { apiError } from "../internal.ts";
import { Csrf } from "../layout.tsx";
import { adminApi } from "./api.ts";
import { adminPage, type Flash, flashFrom, withFlash } from "./page.tsx";
import { formatPeakWindows, parsePeakWindows } from "./peak-windows.ts";

const BASE = "/admin/console/plans";

/** The price version body the admin API takes, from the form (null and a reason when a field is unreadable). */
export function versionBody(f: Record<string, string>): { body: Record<string, unknown> } | { error: string } {
  const num = (name: string, fallback: number) =>
    f[name] === undefined || f[name] === "" ? fallback : Number(f[name]);
  const windows = parsePeakWindows(f.peak_windows ?? "");
  if (!windows) return { error: "Peak windows: write them as `1-5 08:00-20:00; 0,6 10:00-12:00`." };
  const body: Record<string, unknown> = {
    unit_price_micros_per_1k_tokens: num("unit_price", Number.NaN),
    peak_multiplier_bp: num("peak_multiplier_bp", 10_000),
    batch_discount_bp: num("batch_discount_bp", 0),
    monthly_fee_micros: num("monthly_fee_micros", 0),
    included_tokens: num("included_tokens", 0),
    peak_windows: windows,
  };
  if (f.effective) {
    const at = Date.parse(`${f.effective}:00Z`);
    if (!Number.isFinite(at)) return { error: "Effective from: a UTC date and time." };
    body.effective_from = at;
  }
  for (const [k, v] of Object.entries(body)) {
    if (typeof v === "number" && !Number.isSafeInteger(v)) return { error: `${k} must be a whole number.` };
  }
  return { body };
}

interface Preview {
  period: string;
  tokens: number;
  peakTokens: number;
  currentMicros: number;
  newMicros: number;
  currency: string;
}

/**
 * What last month's usage of the plan (in the plan's time zone) would have cost under the proposed per-token prices,
 * each event at its recorded peak flag: from the usage rollups, exactly as rating prices each event (rounded once per
 * event), from the count of events per token count. Monthly fees and included tokens are left out (an enterprise plan's per-event price is 0: its overage is settled on the invoice), so
 * this compares usage prices; it is not an invoice. Null when a price is out of rating's range.
 */
async function preview(d: ConsoleDeps, plan: Plan, body: Record<string, unknown>): Promise<Preview | null> {
  const last = previousPeriod(periodAt(d.now(), plan.timeZone));
  const range = periodBounds(last, plan.timeZone);
  const version = {
    unitPriceMicrosPer1k: Number(body.unit_price_micros_per_1k_tokens),
    peakMultiplierBp: Number(body.peak_multiplier_bp),
    batchDiscountBp: Number(body.batch_discount_bp),
  };
  if (!Object.values(version).every((v) => Number.isSafeInteger(v) && v >= 0) || version.batchDiscountBp > 10_000) {
    return null;
  }
  const reports = d.proxy.stores.reports;
  const [totals, counts] = await Promise.all([
    reports.totals({ ...range, byPlan: true }),
    reports.tokenCounts({ planId: plan.id, ...range }),
  ]);
  const mine = totals.filter((t) => t.planId === plan.id && t.currency === plan.currency);
  const tokens = mine.reduce((s, t) => s + t.tokens, 0);
  const peakTokens = mine.reduce((s, t) => s + t.peakTokens, 0);
  const newMicros = repriceTokenCounts(counts, plan.kind, plan.currency, version);
  return {
    period: last.id,
    tokens,
    peakTokens,
    currentMicros: mine.reduce((s, t) => s + t.amountMicros, 0),
    newMicros,
    currency: plan.currency,
  };
}

function VersionForm(props: { plan: Plan; csrf: string; latest: PriceVersion | null; values: Record<string, string> }) {
  const v = props.values;
  const l = props.latest;
  const id = props.plan.id;
  const val = (name: string, fallback: string) => v[name] ?? fallback;
  return (
    <form method="post" action={`${BASE}/${id}/versions`}>
      <Csrf token={props.csrf} />
      <div class="row">
        <div>
          <label for={`${id}-unit`}>
            Price per 1k tokens <span class="hint">(micro-units of {props.plan.currency})</span>
          </label>
          <input
            id={`${id}-unit`}
            name="unit_price"
            type="number"
            min="0"
            step="1"
            required
            value={val("unit_price", String(l?.unitPriceMicrosPer1kTokens ?? ""))}
          />
        </div>
        <div>
          <label for={`${id}-mult`}>
            Peak multiplier <span class="hint">(basis points, 10000 = ×1)</span>
          </label>
          <input
            id={`${id}-mult`}
            name="peak_multiplier_bp"
            type="number"
            min="0"
            value={val("peak_multiplier_bp", String(l?.peakMultiplierBp ?? 10_000))}
          />
        </div>
        <div>
          <label for={`${id}-disc`}>Batch discount (bp)</label>
          <input
            id={`${id}-disc`}
            name="batch_discount_bp"
            type="number"
            min="0"
            max="10000"
            value={val("batch_discount_bp", String(l?.batchDiscountBp ?? 0))}
          />
        </div>
      </div>
      <div class="row">
        <div>
          <label for={`${id}-fee`}>Monthly fee (micro-units)</label>
          <input
            id={`${id}-fee`}
            name="monthly_fee_micros"
            type="number"
            min="0"
            value={val("monthly_fee_micros", String(l?.monthlyFeeMicros ?? 0))}
          />
        </div>
        <div>
          <label for={`${id}-incl`}>Included tokens</label>
          <input
            id={`${id}-incl`}
            name="included_tokens"
            type="number"
            min="0"
            value={val("included_tokens", String(l?.includedTokens ?? 0))}
          />
        </div>
        <div>
          <label for={`${id}-peak`}>
            Peak windows <span class="hint">({props.plan.timeZone}; e.g. 1-5 08:00-20:00)</span>
          </label>
          <input
            id={`${id}-peak`}
            name="peak_windows"
            value={val("peak_windows", l ? formatPeakWindows(l.peakWindows) : "")}
          />
        </div>
        <div>
          <label for={`${id}-eff`}>
            Effective from <span class="hint">(UTC; empty = now)</span>
          </label>
          <input id={`${id}-eff`} name="effective" type="datetime-local" value={val("effective", "")} />
        </div>
      </div>
      <p class="row">
        <button type="submit" name="step" value="preview" class="secondary">
          Preview against last month
        </button>
        <button type="submit" name="step" value="create">
          Create version
        </button>
      </p>
    </form>
  );
}

async function plansPage(
  d: ConsoleDeps,
  c: ConsoleContext,
  flash: Flash,
  form?: { planId: string; values: Record<string, string>; preview: Preview | null },
  status?: 400 | 409,
) {
  const plans = await d.proxy.stores.plans.listPlans();
  const versions = await Promise.all(plans.map((p) => d.proxy.stores.plans.listVersions(p.id)));
  const now = d.now();
  return adminPage(
    c,
    "Plans & prices",
    BASE,
    <>
      <h1>Plans and price versions</h1>
      {plans.map((plan, i) => {
        const list = versions[i] ?? [];
        const mine = form?.planId === plan.id ? form : undefined;
        return (
          <section class="card" aria-labelledby={`plan-${plan.id}`}>
            <h2 id={`plan-${plan.id}`}>
              {plan.name}{" "}
              <span class="hint">
                {plan.id} · {plan.kind} · {plan.currency} · {plan.timeZone} · {plan.requestsPerSecond} req/s, burst{" "}
                {plan.burst}, {plan.maxInFlight} in flight
              </span>
            </h2>
            <table>
              <caption class="muted">History of versions</caption>
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  <th scope="col">Effective from</th>
                  <th scope="col" class="n">
                    Per 1k tokens
                  </th>
                  <th scope="col" class="n">
                    Peak ×
                  </th>
                  <th scope="col">Peak windows ({plan.timeZone})</th>
                  <th scope="col" class="n">
                    Monthly fee
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((v) => (
                  <tr>
                    <td>
                      v{v.version}{" "}
                      {v.effectiveFrom > now ? (
                        <span class="badge">scheduled</span>
                      ) : v === list.filter((x) => x.effectiveFrom <= now).at(-1) ? (
                        <span class="badge ok">in force</span>
                      ) : null}
                    </td>
                    <td>{when(v.effectiveFrom)}</td>
                    <td class="n">{money(v.unitPriceMicrosPer1kTokens, plan.currency)}</td>
                    <td class="n">{(v.peakMultiplierBp / 10_000).toFixed(2)}</td>
                    <td>{formatPeakWindows(v.peakWindows) || "none"}</td>
                    <td class="n">{money(v.monthlyFeeMicros, plan.currency)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <h3>New version</h3>
            {mine?.preview && (
              <div class="flash ok" role="status">
                {mine.preview.period}: {int(mine.preview.tokens)} tokens ({int(mine.preview.peakTokens)} at peak) cost{" "}
                {money(mine.preview.currentMicros, mine.preview.currency)}; under this version{" "}
                {money(mine.preview.newMicros, mine.preview.currency)} (usage prices only, each request at its recorded
                peak flag{plan.kind === "enterprise" ? "; enterprise overage is settled on the invoice" : ""}).
              </div>
            )}
            <VersionForm plan={plan} csrf={c.get("csrf")} latest={list.at(-1) ?? null} values={mine?.values ?? {}} />
          </section>
        );
      })}
    </>,
    { flash, ...(status ? { status } : {}) },
  );
}

/** Plans and price versions: history, a new version now or later, a preview of last month under it. */
export function registerPlanPages(app: Hono<ConsoleEnv>, d: ConsoleDeps): void {
  app.get("/plans", (c) => plansPage(d, c, flashFrom(c)));
  app.post("/plans/:id/versions", async (c) => {
    const planId = c.req.param("id");
    const plan = await d.proxy.stores.plans.getPlan(planId);
    if (!plan) return plansPage(d, c, { kind: "err", text: "No such plan." }, undefined, 400);
    const f = await formFields(c);
    const parsed = versionBody(f);
    if ("error" in parsed) {
      return plansPage(d, c, { kind: "err", text: parsed.error }, { planId, values: f, preview: null }, 400);
    }
    if (f.step === "preview") {
      const shown = await preview(d, plan, parsed.body);
      if (!shown) {
        const text = "Prices must be whole numbers ≥ 0, and the batch discount at most 10000.";
        return plansPage(d, c, { kind: "err", text }, { planId, values: f, preview: null }, 400);
      }
      return plansPage(d, c, null, { planId, values: f, preview: shown });
    }
    const r = await adminApi(d, c, "POST", `/admin/plans/${encodeURIComponent(planId)}/prices`, parsed.body);
    if (r.status !== 201) {
      const text = apiError(r.json, `not created (${r.status})`);
      return plansPage(d, c, { kind: "err", text }, { planId, values: f, preview: null }, 400);
    }
    const version = (r.json?.version as { version: number } | undefined)?.version;
    return c.redirect(withFlash(BASE, "ok", `${plan.name}: version ${version} created.`), 303);
  });
}
