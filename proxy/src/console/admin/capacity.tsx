import type { Hono } from "hono";
import { z } from "zod";
import type { ConsoleDeps } from "../deps.ts";
import type { ConsoleContext, ConsoleEnv } from "../env.ts";
import { int, money } from "../format.ts";
import { formFields } from "../http.ts";
import { apiError } from "../internal.ts";
import { Csrf } from "../layout.tsx";
import { adminApi } from "./api.ts";
import { adminPage, type Flash, withFlash } from "./page.tsx";

const BASE = "/admin/console/capacity";
const micros = z.number().int().nonnegative();
const priceSet = z.object({ per1kTokensMicros: micros, perAudioMinuteMicros: micros });

/**
 * The parts of `npm run capacity`'s report.json (capacity/src/report/types.ts) this page reads. Parsed, not
 * imported: the proxy does not depend on the capacity tool, and a report from another version still loads if
 * these fields are there.
 */
const reportSchema = z.object({
  title: z.string().default("capacity report"),
  generatedAt: z.string().default(""),
  hardware: z.object({ measured: z.string() }).partial().default({}),
  model: z.object({ name: z.string(), randomWeights: z.boolean().nullable() }).partial().default({}),
  articleTable: z
    .array(
      z.object({
        users: z.number(),
        avgLatencyMs: z.number(),
        p95LatencyMs: z.number(),
        rps: z.number(),
        msPerToken: z.number(),
        errorRate: z.number(),
      }),
    )
    .default([]),
  cost: z.object({
    currency: z.string().length(3),
    cost: priceSet,
    basic: priceSet,
    batch: priceSet.extend({ discountBp: micros }),
    peak: z.object({ multiplierBp: micros, note: z.string().default("") }),
    enterprise: z.object({ monthlyFeeMicros: micros, includedTokens: micros, overagePer1kMicros: micros }),
    warnings: z.array(z.string()).default([]),
  }),
});
type CapacityReport = z.infer<typeof reportSchema>;

/** The price versions a report suggests per plan kind (the same mapping as `npm run capacity -- --apply`). */
function suggestedBodies(r: CapacityReport) {
  const common = {
    unit_price_micros_per_1k_tokens: r.cost.basic.per1kTokensMicros,
    peak_multiplier_bp: r.cost.peak.multiplierBp,
    batch_discount_bp: r.cost.batch.discountBp,
  };
  return {
    basic: { ...common, monthly_fee_micros: 0, included_tokens: 0 },
    batch: { ...common, monthly_fee_micros: 0, included_tokens: 0 },
    enterprise: {
      ...common,
      monthly_fee_micros: r.cost.enterprise.monthlyFeeMicros,
      included_tokens: r.cost.enterprise.includedTokens,
      overage_price_micros_per_1k_tokens: r.cost.enterprise.overagePer1kMicros,
    },
  };
}

function parseReport(text: string): { report: CapacityReport } | { error: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { error: "That is not JSON: paste the report.json `npm run capacity` wrote." };
  }
  const parsed = reportSchema.safeParse(json);
  if (!parsed.success) return { error: "This JSON has no cost section of a capacity report (cost.basic, cost.peak…)." };
  return { report: parsed.data };
}

async function capacityPage(d: ConsoleDeps, c: ConsoleContext, flash: Flash, text = "", report?: CapacityReport) {
  const plans = await d.proxy.stores.plans.listPlans();
  const bodies = report ? suggestedBodies(report) : null;
  return adminPage(
    c,
    "Capacity",
    BASE,
    <>
      <h1>Capacity report → prices</h1>
      <form method="post" action={`${BASE}/load`} class="card" enctype="multipart/form-data">
        <Csrf token={c.get("csrf")} />
        <label for="cap-file">
          report.json file <span class="hint">(or paste it below)</span>
        </label>
        <input id="cap-file" name="report_file" type="file" accept="application/json,.json" />
        <label for="cap-json">
          report.json{" "}
          <span class="hint">
            (written by <code>npm run capacity</code>)
          </span>
        </label>
        <textarea id="cap-json" name="report">
          {text}
        </textarea>
        <p>
          <button type="submit">Load</button>
        </p>
      </form>
      {report && bodies && (
        <>
          <section class="card">
            <h2>{report.title}</h2>
            <p class="muted">
              {report.generatedAt} · measured on {report.hardware.measured ?? "?"} · model {report.model.name ?? "?"}
              {report.model.randomWeights ? " (random weights)" : ""}
            </p>
            <table>
              <thead>
                <tr>
                  <th scope="col" class="n">
                    Users
                  </th>
                  <th scope="col" class="n">
                    Req/s
                  </th>
                  <th scope="col" class="n">
                    Mean ms
                  </th>
                  <th scope="col" class="n">
                    p95 ms
                  </th>
                  <th scope="col" class="n">
                    ms/token
                  </th>
                  <th scope="col" class="n">
                    Errors
                  </th>
                </tr>
              </thead>
              <tbody>
                {report.articleTable.map((r) => (
                  <tr>
                    <td class="n">{r.users}</td>
                    <td class="n">{r.rps.toFixed(2)}</td>
                    <td class="n">{int(r.avgLatencyMs)}</td>
                    <td class="n">{int(r.p95LatencyMs)}</td>
                    <td class="n">{r.msPerToken.toFixed(2)}</td>
                    <td class="n">{(r.errorRate * 100).toFixed(1)} %</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {report.cost.warnings.map((w) => (
              <p class="flash err">{w}</p>
            ))}
          </section>
          <section class="card">
            <h2>Suggested prices ({report.cost.currency})</h2>
            <div class="grid">
              <div class="stat">
                <div class="v">{money(report.cost.cost.per1kTokensMicros, report.cost.currency)}</div>
                <div class="l">cost per 1k tokens</div>
              </div>
              <div class="stat">
                <div class="v">{money(report.cost.basic.per1kTokensMicros, report.cost.currency)}</div>
                <div class="l">basic price per 1k tokens</div>
              </div>
              <div class="stat">
                <div class="v">×{(report.cost.peak.multiplierBp / 10_000).toFixed(2)}</div>
                <div class="l">peak multiplier {report.cost.peak.note}</div>
              </div>
              <div class="stat">
                <div class="v">−{(report.cost.batch.discountBp / 100).toFixed(0)} %</div>
                <div class="l">batch discount</div>
              </div>
              <div class="stat">
                <div class="v">{money(report.cost.enterprise.monthlyFeeMicros, report.cost.currency)}</div>
                <div class="l">
                  enterprise monthly fee, {int(report.cost.enterprise.includedTokens)} tokens included
                </div>
              </div>
            </div>
            <form method="post" action={`${BASE}/apply`}>
              <Csrf token={c.get("csrf")} />
              <input type="hidden" name="report" value={text} />
              <p>
                Apply as a new price version, effective now, of every plan in {report.cost.currency} (each keeps its
                peak windows):{" "}
                {plans
                  .filter((p) => p.currency === report.cost.currency)
                  .map((p) => p.id)
                  .join(", ") || "none"}
                .
              </p>
              <button type="submit">Apply these prices</button>
            </form>
          </section>
        </>
      )}
    </>,
    { flash },
  );
}

/** Capacity: load a report, show its table and suggested prices, apply them as new price versions in one step. */
export function registerCapacityPages(app: Hono<ConsoleEnv>, d: ConsoleDeps): void {
  app.get("/capacity", (c) => capacityPage(d, c, null));
  app.post("/capacity/load", async (c) => {
    // A chosen file wins over the text area.
    const file = (await c.req.parseBody()).report_file;
    const text = file instanceof File && file.size > 0 ? await file.text() : ((await formFields(c)).report ?? "");
    const parsed = parseReport(text);
    if ("error" in parsed) return capacityPage(d, c, { kind: "err", text: parsed.error }, text);
    return capacityPage(d, c, null, text, parsed.report);
  });
  app.post("/capacity/apply", async (c) => {
    const text = (await formFields(c)).report ?? "";
    const parsed = parseReport(text);
    if ("error" in parsed) return capacityPage(d, c, { kind: "err", text: parsed.error }, text);
    const bodies = suggestedBodies(parsed.report);
    const done: string[] = [];
    const failed: string[] = [];
    for (const plan of await d.proxy.stores.plans.listPlans()) {
      if (plan.currency !== parsed.report.cost.currency) continue;
      const latest = (await d.proxy.stores.plans.listVersions(plan.id)).at(-1);
      const body = { ...bodies[plan.kind], peak_windows: latest?.peakWindows ?? [] };
      const r = await adminApi(d, c, "POST", `/admin/plans/${encodeURIComponent(plan.id)}/prices`, body);
      if (r.status === 201)
        done.push(`${plan.id} v${(r.json?.version as { version?: number } | undefined)?.version ?? "?"}`);
      else failed.push(`${plan.id}: ${apiError(r.json, String(r.status))}`);
    }
    const text2 = `Applied: ${done.join(", ") || "none"}${failed.length ? `. Failed: ${failed.join("; ")}` : ""}`;
    return c.redirect(withFlash("/admin/console/plans", failed.length ? "err" : "ok", text2), 303);
  });
}
