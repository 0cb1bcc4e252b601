import type { Hono } from "hono";
import { parsePeriod, periodAt, previousPeriod } from "../../../../billing/src/period.ts";
import { ActionForm } from "../components.tsx";
import type { ConsoleDeps } from "../deps.ts";
import type { ConsoleContext, ConsoleEnv } from "../env.ts";
import { money } from "../format.ts";
import { formFields } from "../http.ts";
import { apiError } from "../internal.ts";
import { adminApi } from "./api.ts";
import { adminPage, type Flash } from "./page.tsx";

const BASE = "/admin/console/billing";

interface Report {
  period: string;
  generated_at: string;
  ok: boolean;
  totals: { currency: string; ledger_micros: number; billed_micros: number; stripe_total_micros: number }[];
  customers: { customer_id: string; state: string; equal?: boolean; error?: string }[];
}

async function billingPage(d: ConsoleDeps, c: ConsoleContext, period: string, flash: Flash, fresh?: Report) {
  const r = fresh ? null : await adminApi(d, c, "GET", `/admin/billing/reports/${period}`);
  const report = fresh ?? (r?.status === 200 ? (r.json?.report as Report) : null);
  const note = !report && r ? apiError(r.json, `no report (${r.status})`) : null;
  return adminPage(
    c,
    "Stripe",
    BASE,
    <>
      <h1>Stripe reconciliation, {period}</h1>
      <div class="row">
        <form method="get" action={BASE} class="row">
          <div>
            <label for="b-period">Month</label>
            <input id="b-period" name="period" type="month" value={period} />
          </div>
          <button type="submit" class="secondary">
            Show report
          </button>
        </form>
        <ActionForm action={`${BASE}/reconcile`} csrf={c.get("csrf")} button="Reconcile now">
          <input type="hidden" name="period" value={period} />
        </ActionForm>
      </div>
      {note && <p class="muted">{note}</p>}
      {report && (
        <>
          <p>
            {report.ok ? <span class="badge ok">reconciled</span> : <span class="badge bad">needs attention</span>}{" "}
            <span class="hint">generated {report.generated_at}</span>
          </p>
          <table>
            <thead>
              <tr>
                <th scope="col">Currency</th>
                <th scope="col" class="n">
                  Ledger
                </th>
                <th scope="col" class="n">
                  Billed
                </th>
                <th scope="col" class="n">
                  Stripe
                </th>
              </tr>
            </thead>
            <tbody>
              {report.totals.map((t) => (
                <tr>
                  <td>{t.currency}</td>
                  <td class="n">{money(t.ledger_micros, t.currency)}</td>
                  <td class="n">{money(t.billed_micros, t.currency)}</td>
                  <td class="n">{money(t.stripe_total_micros, t.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Customers</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">Customer</th>
                <th scope="col">State</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {report.customers.map((cu) => (
                <tr>
                  <td>{cu.customer_id}</td>
                  <td>{cu.state}</td>
                  <td>{cu.error ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </>,
    { flash },
  );
}

/** The Stripe reconciliation report of a month, and "reconcile now" (through the admin billing API). */
export function registerBillingPages(app: Hono<ConsoleEnv>, d: ConsoleDeps): void {
  const defaultPeriod = () => previousPeriod(periodAt(d.now(), "UTC")).id;
  app.get("/billing", (c) => billingPage(d, c, parsePeriod(c.req.query("period") ?? "")?.id ?? defaultPeriod(), null));
  app.post("/billing/reconcile", async (c) => {
    const period = parsePeriod((await formFields(c)).period ?? "")?.id ?? defaultPeriod();
    const r = await adminApi(d, c, "POST", "/admin/billing/reconcile", { period });
    if (r.status !== 200) {
      return billingPage(d, c, period, { kind: "err", text: apiError(r.json, `reconcile failed (${r.status})`) });
    }
    return billingPage(d, c, period, { kind: "ok", text: "Reconciled." }, r.json?.report as Report);
  });
}
