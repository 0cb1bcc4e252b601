import type { Hono } from "hono";
import { periodAt, previousPeriod } from "../../../../billing/src/period.ts";
import type { ConsoleDeps } from "../deps.ts";
import type { ConsoleEnv } from "../env.ts";
import { int, money, when } from "../format.ts";
import { apiError, callApi } from "../internal.ts";
import { Csrf } from "../layout.tsx";
import { customerPage } from "./page.tsx";

/** Billing: the plan and its price in force, and the Stripe billing portal (invoices, payment methods). */
export function registerBillingPage(app: Hono<ConsoleEnv>, d: ConsoleDeps): void {
  app.get("/billing", async (c) => {
    const { plan, customer } = c.get("account");
    const version = await d.proxy.stores.plans.versionAt(plan.id, d.now());
    const portal = Boolean(d.proxy.billing?.stripeConfigured);
    // The last 12 periods in the plan's zone, newest first, from the billing store.
    const periods: string[] = [];
    for (let p = periodAt(d.now(), plan.timeZone), i = 0; i < 12; i++, p = previousPeriod(p)) periods.push(p.id);
    const invoices = d.proxy.billing ? await d.proxy.billing.invoices(customer.id, periods) : [];
    return customerPage(
      c,
      "Billing",
      "/console/billing",
      <>
        <h1>Billing</h1>
        <section class="card" aria-labelledby="plan-h">
          <h2 id="plan-h">Plan: {plan.name}</h2>
          {version ? (
            <div class="grid">
              <div class="stat">
                <div class="v">{money(version.unitPriceMicrosPer1kTokens, plan.currency)}</div>
                <div class="l">per 1,000 tokens (50 tokens = 1 s of audio)</div>
              </div>
              <div class="stat">
                <div class="v">×{(version.peakMultiplierBp / 10_000).toFixed(2)}</div>
                <div class="l">
                  in peak windows ({plan.timeZone}):{" "}
                  {version.peakWindows.length === 0
                    ? "none"
                    : version.peakWindows.map((w) => `${w.start}–${w.end}`).join(", ")}
                </div>
              </div>
              <div class="stat">
                <div class="v">{money(version.monthlyFeeMicros, plan.currency)}</div>
                <div class="l">monthly fee, {int(version.includedTokens)} tokens included</div>
              </div>
              <div class="stat">
                <div class="v">v{version.version}</div>
                <div class="l">price version, in force since {when(version.effectiveFrom)}</div>
              </div>
            </div>
          ) : (
            <p class="muted">No price is in force yet.</p>
          )}
          <p>
            Account status:{" "}
            <span class={`badge ${customer.status === "active" ? "ok" : "bad"}`}>{customer.status}</span>{" "}
            {customer.suspendedReason ?? ""}
          </p>
        </section>
        <section class="card" aria-labelledby="portal-h">
          <h2 id="portal-h">Invoices and payment</h2>
          <table>
            <caption class="muted">Invoices of the last 12 months</caption>
            <thead>
              <tr>
                <th scope="col">Period</th>
                <th scope="col">Invoice</th>
                <th scope="col">State</th>
                <th scope="col" class="n">
                  Tokens
                </th>
                <th scope="col" class="n">
                  Billed
                </th>
              </tr>
            </thead>
            <tbody>
              {invoices.length === 0 && (
                <tr>
                  <td colspan={5} class="muted">
                    No invoice yet.
                  </td>
                </tr>
              )}
              {invoices.map((i) => (
                <tr>
                  <td>{i.period}</td>
                  <td>{i.stripeInvoiceNumber ?? i.stripeInvoiceId ?? "—"}</td>
                  <td>{i.stripeInvoiceStatus ?? i.state}</td>
                  <td class="n">{int(i.tokens)}</td>
                  <td class="n">{i.currency ? money(i.billedMicros, i.currency) : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {portal ? (
            <form method="post" action="/console/billing/portal">
              <Csrf token={c.get("csrf")} />
              <p>Your invoices, receipts and payment methods are in the Stripe billing portal.</p>
              <button type="submit">Open the billing portal</button>
            </form>
          ) : (
            <p class="muted">Billing through Stripe is not configured on this deployment.</p>
          )}
        </section>
      </>,
    );
  });

  app.post("/billing/portal", async (c) => {
    const key = await d.signer.unseal(c.get("session"));
    if (!key) return c.redirect("/console/sign-in", 303);
    const r = await callApi(d.app, c, key, "POST", "/v1/billing/portal");
    const url = r.json?.url;
    if (r.status !== 200 || typeof url !== "string" || !/^https?:\/\//.test(url)) {
      return customerPage(c, "Billing", "/console/billing", <p>{apiError(r.json, "The portal is unavailable.")}</p>, {
        status: 409,
      });
    }
    return c.redirect(url, 303);
  });
}
