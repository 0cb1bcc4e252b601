import type { Hono } from "hono";
import { periodAt, periodBounds } from "../../../../billing/src/period.ts";
import type { DailyUsage } from "../../store/ports.ts";
import type { BarDatum } from "../chart.tsx";
import { ChartCard, DataTable, MoneyTable, usageColumns } from "../components.tsx";
import type { ConsoleDeps } from "../deps.ts";
import type { ConsoleContext, ConsoleEnv } from "../env.ts";
import { csvCell, int, money } from "../format.ts";
import { SOURCE_LABELS, sourceOfRow, sumRows, totalsBySource } from "../usage-sums.ts";
import { customerPage } from "./page.tsx";

const DAY_MS = 86_400_000;
const RANGES = [7, 30, 90] as const;

function rangeOf(c: ConsoleContext, now: number) {
  const asked = Number(c.req.query("days"));
  const days = (RANGES as readonly number[]).includes(asked) ? asked : 30;
  return { days, fromMs: now - days * DAY_MS, toMs: now + 1 };
}

async function usageRows(d: ConsoleDeps, c: ConsoleContext, fromMs: number, toMs: number): Promise<DailyUsage[]> {
  const { customer, plan } = c.get("account");
  return d.proxy.stores.ledger.usageByDay({
    customerId: customer.id,
    fromMs,
    toMs,
    timeZone: plan.timeZone,
    bySource: true,
  });
}

/** Usage by day and plan (chart, table, totals, the current period's estimate) and its CSV. */
export function registerUsagePages(app: Hono<ConsoleEnv>, d: ConsoleDeps): void {
  app.get("/usage", async (c) => {
    const now = d.now();
    const { customer, plan } = c.get("account");
    const { days, fromMs, toMs } = rangeOf(c, now);
    const period = periodBounds(periodAt(now, plan.timeZone), plan.timeZone);
    // One ledger query when the range covers the current period (the default 30 days always does): the totals by
    // plan and of the period are sums of the days' rows (the period starts at a local midnight, so its days are whole).
    const covered = period.fromMs >= fromMs;
    const [rows, periodQueried, version] = await Promise.all([
      usageRows(d, c, fromMs, toMs),
      covered ? null : d.proxy.stores.ledger.totals({ customerId: customer.id, fromMs: period.fromMs, toMs: now + 1 }),
      d.proxy.stores.plans.versionAt(plan.id, now),
    ]);
    const byPlan = sumRows(rows, (r) => `${r.planId} ${r.currency}`)
      .map((t) => ({ ...t, planId: t.planId ?? "" }))
      .sort((a, b) => a.planId.localeCompare(b.planId) || a.currency.localeCompare(b.currency));
    const bySource = totalsBySource(rows);
    const periodTotals =
      periodQueried ??
      sumRows(
        rows.filter((r) => r.day >= `${period.period.id}-01`),
        (r) => r.currency,
      );
    // One bar per local day of the range, days without usage included.
    const perDay = new Map<string, { peak: number; off: number }>();
    for (const r of rows) {
      const day = perDay.get(r.day) ?? { peak: 0, off: 0 };
      if (r.peak) day.peak += r.tokens;
      else day.off += r.tokens;
      perDay.set(r.day, day);
    }
    const fmt = new Intl.DateTimeFormat("en-CA", { timeZone: plan.timeZone });
    const chartData: BarDatum[] = [];
    for (let t = fromMs; t < toMs; t += DAY_MS) {
      const label = fmt.format(t);
      if (chartData.at(-1)?.label === label) continue;
      const day = perDay.get(label) ?? { peak: 0, off: 0 };
      chartData.push({ label, values: { off: day.off, peak: day.peak } });
    }
    const elapsed = Math.max(1, now - period.fromMs);
    const length = period.toMs - period.fromMs;
    return customerPage(
      c,
      "Usage",
      "/console/usage",
      <>
        <h1>Usage</h1>
        <nav aria-label="Range" class="row">
          {RANGES.map((n) => (
            <a href={`/console/usage?days=${n}`} aria-current={n === days ? "page" : undefined}>
              Last {n} days
            </a>
          ))}
          <a href={`/console/usage.csv?days=${days}`} download>
            Download CSV
          </a>
        </nav>
        <section class="card" aria-labelledby="period-h">
          <h2 id="period-h">
            Current period {period.period.id} <span class="hint">({plan.timeZone})</span>
          </h2>
          <div class="grid">
            {periodTotals.length === 0 && <p class="muted">No usage yet this period.</p>}
            {periodTotals.map((t) => (
              <>
                <div class="stat">
                  <div class="v">{money(t.amountMicros, t.currency)}</div>
                  <div class="l">usage so far ({int(t.tokens)} tokens)</div>
                </div>
                <div class="stat">
                  <div class="v">{money(Math.round((t.amountMicros * length) / elapsed), t.currency)}</div>
                  <div class="l">estimate for the whole period at this pace</div>
                </div>
              </>
            ))}
            {version && version.monthlyFeeMicros > 0 && (
              <div class="stat">
                <div class="v">{money(version.monthlyFeeMicros, plan.currency)}</div>
                <div class="l">monthly fee ({int(version.includedTokens)} tokens included)</div>
              </div>
            )}
          </div>
        </section>
        <ChartCard
          id="chart-h"
          heading="Tokens per day"
          title={`Tokens per day, last ${days} days, off-peak and peak`}
          series={[
            { key: "off", label: "off-peak", className: "off" },
            { key: "peak", label: "peak", className: "peak" },
          ]}
          data={chartData}
        />
        <h2>By plan</h2>
        <MoneyTable
          caption={`Totals of the last ${days} days, per plan charged under and currency`}
          head="Plan"
          label={(t) => t.planId}
          rows={byPlan}
          peakTokens
        />
        <h2>By source</h2>
        <MoneyTable
          caption={`The last ${days} days by what sent the requests: the API, this console's playground, or batch jobs (all metered alike)`}
          head="Source"
          label={(t) => SOURCE_LABELS[t.source]}
          rows={bySource}
          peakTokens
          empty="No usage in this range."
        />
        <h2>By day</h2>
        <DataTable
          columns={[
            { head: "Day", cell: (r) => r.day },
            { head: "Plan", cell: (r) => r.planId },
            { head: "Window", cell: (r) => (r.peak ? "peak" : "off-peak") },
            { head: "Source", cell: (r) => SOURCE_LABELS[sourceOfRow(r)] },
            ...usageColumns<DailyUsage>({ audio: true }),
          ]}
          rows={rows}
          empty="No usage in this range."
        />
      </>,
    );
  });

  app.get("/usage.csv", async (c) => {
    const { days, fromMs, toMs } = rangeOf(c, d.now());
    const rows = await usageRows(d, c, fromMs, toMs);
    const lines = ["day,plan,peak,source,requests,tokens,audio_ms,amount_micros,currency"];
    for (const r of rows) {
      lines.push(
        [r.day, r.planId, r.peak, sourceOfRow(r), r.events, r.tokens, r.audioMs, r.amountMicros, r.currency]
          .map(csvCell)
          .join(","),
      );
    }
    return c.body(`${lines.join("\r\n")}\r\n`, 200, {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="usage-last-${days}-days.csv"`,
    });
  });
}
