import type { CustomerUsage, DayPlanUsage } from "../../store/usage-reports.ts";
import { type BarDatum, StackedBars } from "../chart.tsx";
import { int, money } from "../format.ts";

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
      <p class="legend" aria-hidden="true">
        {series.map((s) => (
          <span>
            <i class={s.className} />
            {s.label}
          </span>
        ))}
      </p>
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
    <table>
      <caption class="muted">Per UTC day and plan</caption>
      <thead>
        <tr>
          <th scope="col">Day</th>
          <th scope="col">Plan</th>
          <th scope="col" class="n">
            Requests
          </th>
          <th scope="col" class="n">
            Tokens
          </th>
          <th scope="col" class="n">
            Peak tokens
          </th>
          <th scope="col" class="n">
            Revenue
          </th>
        </tr>
      </thead>
      <tbody>
        {props.days.map((d) => (
          <tr>
            <td>{d.day}</td>
            <td>{d.planId}</td>
            <td class="n">{int(d.events)}</td>
            <td class="n">{int(d.tokens)}</td>
            <td class="n">{int(d.peakTokens)}</td>
            <td class="n">{money(d.amountMicros, d.currency)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function TopCustomers(props: { rows: CustomerUsage[] }) {
  return (
    <table>
      <caption class="muted">Customers with the most revenue in the month</caption>
      <thead>
        <tr>
          <th scope="col">Customer</th>
          <th scope="col" class="n">
            Requests
          </th>
          <th scope="col" class="n">
            Tokens
          </th>
          <th scope="col" class="n">
            Peak tokens
          </th>
          <th scope="col" class="n">
            Revenue
          </th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((r) => (
          <tr>
            <td>
              <a href={`/admin/console/customers/${encodeURIComponent(r.customerId)}`}>{r.customerId}</a>
            </td>
            <td class="n">{int(r.events)}</td>
            <td class="n">{int(r.tokens)}</td>
            <td class="n">{int(r.peakTokens)}</td>
            <td class="n">{money(r.amountMicros, r.currency)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
