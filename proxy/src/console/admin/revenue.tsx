import type { Hono } from "hono";
import { parsePeriod, periodAt, periodBounds } from "../../../../billing/src/period.ts";
import type { UsageTotals } from "../../store/ports.ts";
import { DAY_MS, utcDay } from "../../store/usage-reports.ts";
import { MoneyTable } from "../components.tsx";
import type { ConsoleDeps } from "../deps.ts";
import type { ConsoleEnv } from "../env.ts";
import { adminApi } from "./api.ts";
import { adminPage } from "./page.tsx";
import { DailyTable, RevenueByDay, TopCustomers } from "./revenue-daily.tsx";

const BASE = "/admin/console/revenue";

function TotalsTable(props: { caption: string; rows: (UsageTotals & { label: string })[] }) {
  return (
    <MoneyTable caption={props.caption} head="—" label={(t) => t.label} rows={props.rows} peakTokens amount="Revenue" />
  );
}

const TOP_CUSTOMERS = 20;

/**
 * Revenue and usage of a calendar month (UTC): in total, by plan, by day (chart and table, from the rollups), the top
 * customers, and every customer (paged, from the admin API).
 */
export function registerRevenuePage(app: Hono<ConsoleEnv>, d: ConsoleDeps): void {
  app.get("/revenue", async (c) => {
    const period = parsePeriod(c.req.query("period") ?? "") ?? periodAt(d.now(), "UTC");
    const { fromMs, toMs } = periodBounds(period, "UTC");
    const after = c.req.query("after");
    const q = new URLSearchParams({ from: String(fromMs), to: String(toMs), limit: "50" });
    if (after) q.set("after", after);
    const reports = d.proxy.stores.reports;
    const [r, days, top] = await Promise.all([
      adminApi(d, c, "GET", `/admin/usage?${q}`),
      reports.byDay({ fromMs, toMs }),
      reports.topCustomers({ fromMs, toMs, limit: TOP_CUSTOMERS }),
    ]);
    const dayLabels: string[] = [];
    for (let at = fromMs; at < toMs; at += DAY_MS) dayLabels.push(utcDay(at));
    const body = (r.json ?? {}) as {
      totals?: UsageTotals[];
      plans?: UsageTotals[];
      customers?: { customer_id: string; totals: UsageTotals[] }[];
      next_after?: string | null;
    };
    return adminPage(
      c,
      "Revenue",
      BASE,
      <>
        <h1>Revenue and usage, {period.id}</h1>
        <form method="get" action={BASE} class="row">
          <div>
            <label for="rev-period">Month</label>
            <input id="rev-period" name="period" type="month" value={period.id} />
          </div>
          <button type="submit" class="secondary">
            Show
          </button>
        </form>
        <TotalsTable caption="Total" rows={(body.totals ?? []).map((t) => ({ ...t, label: "all" }))} />
        <TotalsTable caption="By plan" rows={(body.plans ?? []).map((t) => ({ ...t, label: t.planId ?? "" }))} />
        <h2>By day</h2>
        <RevenueByDay days={days} dayLabels={dayLabels} />
        <DailyTable days={days} />
        <h2>Top customers</h2>
        <TopCustomers rows={top} />
        <h2>Every customer</h2>
        <TotalsTable
          caption="By customer (this page)"
          rows={(body.customers ?? []).flatMap((cu) => cu.totals.map((t) => ({ ...t, label: cu.customer_id })))}
        />
        {body.next_after && (
          <p>
            <a href={`${BASE}?period=${period.id}&after=${encodeURIComponent(body.next_after)}`}>Next customers →</a>
          </p>
        )}
      </>,
    );
  });
}
