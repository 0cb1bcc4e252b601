import type { CustomerUsage, DayPlanUsage } from "../../store/usage-reports.ts";
import { type BarDatum, StackedBars } from "../chart.tsx";
import { DataTable, Legend, MoneyTable, usageColumns } from "../components.tsx";

/** Chart colours for up to this many plans (stylesheet classes s0…s3); further plans share the last. */
const PLAN_CLASSES = ["s0", "s1", "s2", "s3"];

/** Revenue per day stacked by plan, one chart per currency (amounts in different currencies are never added). */
export function RevenueByDay(props: { days: DayPlanUsage[]; dayLabels: string[] }) {
  const plans = [...new Set(props.days.map((d) => d.planId))].sort();
  const currencies = [...new Set(props.days.map((d) => d.currency))].sort();
  const series = plans.map((p, i) => ({
    key: p,
    label: p,
    className: PLAN_CLASSES[Math.min(i, PLAN_CLASSES.length - 1)] as string,
  }));
  return (
    <>
      <Legend series={series} />
      {currencies.map((currency) => {
        const byDay = new Map<string, BarDatum>(props.dayLabels.map((day) => [day, { label: day, values: {} }]));
        for (const d of props.days) {
          if (d.currency !== currency) continue;
          const datum = byDay.get(d.day);
          if (datum) datum.values[d.planId] = (datum.values[d.planId] ?? 0) + d.amountMicros / 1_000_000;
        }
        return (
          <div class="chart">
            <StackedBars
              title={`Revenue per day in ${currency}, by plan`}
              series={series}
              data={[...byDay.values()]}
              format={(n) => n.toLocaleString("en-US", { maximumFractionDigits: 2 })}
            />
          </div>
        );
      })}
    </>
  );
}

export function DailyTable(props: { days: DayPlanUsage[] }) {
  return (
    <DataTable
      caption="Per UTC day and plan"
      columns={[
        { head: "Day", cell: (d) => d.day },
        { head: "Plan", cell: (d) => d.planId },
        ...usageColumns<DayPlanUsage>({ peakTokens: true, amount: "Revenue" }),
      ]}
      rows={props.days}
    />
  );
}

export function TopCustomers(props: { rows: CustomerUsage[] }) {
  return (
    <MoneyTable
      caption="Customers with the most revenue in the month"
      head="Customer"
      label={(r) => <a href={`/admin/console/customers/${encodeURIComponent(r.customerId)}`}>{r.customerId}</a>}
      rows={props.rows}
      peakTokens
      amount="Revenue"
    />
  );
}
