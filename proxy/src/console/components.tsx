import type { Child } from "hono/jsx";
import type { ApiKey } from "../store/ports.ts";
import { type BarDatum, StackedBars, type StackedBarsProps } from "./chart.tsx";
import { int, money, when } from "./format.ts";
import { Csrf } from "./layout.tsx";

/**
 * The pieces every console page is built from: a data table (and its usage-figure columns, so every page shows
 * requests, tokens and money alike), a chart card with its legend, and a one-button action form with its CSRF token.
 */

export interface Column<R> {
  /** the header; an empty one is an actions column, named for screen readers only */
  head: string;
  /** right-aligned figures */
  numeric?: boolean;
  cell(row: R): Child;
}

/** A table with column headers (`scope="col"`), figures right-aligned, and a line saying so when there are no rows. */
export function DataTable<R>(props: { caption?: string; columns: Column<R>[]; rows: readonly R[]; empty?: string }) {
  return (
    <table>
      {props.caption && <caption class="muted">{props.caption}</caption>}
      <thead>
        <tr>
          {props.columns.map((col) => (
            <th scope="col" class={col.numeric ? "n" : undefined}>
              {col.head === "" ? <span class="skip">Actions</span> : col.head}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.length === 0 && props.empty && (
          <tr>
            <td colspan={props.columns.length} class="muted">
              {props.empty}
            </td>
          </tr>
        )}
        {props.rows.map((row) => (
          <tr>
            {props.columns.map((col) => (
              <td class={col.numeric ? "n" : undefined}>{col.cell(row)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** What a usage or revenue row carries. */
export interface UsageFigures {
  events: number;
  tokens: number;
  peakTokens?: number;
  audioMs?: number;
  amountMicros: number;
  currency: string;
}

/** The usage figures' columns, in one order on every page: requests, tokens, [peak tokens], [audio], amount. */
export function usageColumns<R extends UsageFigures>(
  options: { peakTokens?: boolean; audio?: boolean; amount?: string } = {},
): Column<R>[] {
  const columns: Column<R>[] = [
    { head: "Requests", numeric: true, cell: (r) => int(r.events) },
    { head: "Tokens", numeric: true, cell: (r) => int(r.tokens) },
  ];
  if (options.peakTokens) columns.push({ head: "Peak tokens", numeric: true, cell: (r) => int(r.peakTokens ?? 0) });
  if (options.audio)
    columns.push({ head: "Audio (s)", numeric: true, cell: (r) => ((r.audioMs ?? 0) / 1000).toFixed(1) });
  columns.push({ head: options.amount ?? "Amount", numeric: true, cell: (r) => money(r.amountMicros, r.currency) });
  return columns;
}

/** A label column (`head`) followed by the usage figures: totals by plan, by customer, by source… */
export function MoneyTable<R extends UsageFigures>(props: {
  caption?: string;
  head: string;
  label: (row: R) => Child;
  rows: readonly R[];
  peakTokens?: boolean;
  amount?: string;
  empty?: string;
}) {
  const columns: Column<R>[] = [
    { head: props.head, cell: props.label },
    ...usageColumns<R>({ peakTokens: props.peakTokens ?? false, ...(props.amount ? { amount: props.amount } : {}) }),
  ];
  return (
    <DataTable
      columns={columns}
      rows={props.rows}
      {...(props.caption ? { caption: props.caption } : {})}
      {...(props.empty ? { empty: props.empty } : {})}
    />
  );
}

/** The columns every API key table starts with: name, prefix (never the key), created, last used. */
export function keyColumns<K extends Pick<ApiKey, "name" | "prefix" | "createdAt" | "lastUsedAt">>(): Column<K>[] {
  return [
    { head: "Name", cell: (k) => k.name ?? "—" },
    { head: "Prefix", cell: (k) => <code>{k.prefix}…</code> },
    { head: "Created", cell: (k) => when(k.createdAt) },
    { head: "Last used", cell: (k) => when(k.lastUsedAt) },
  ];
}

export type Series = StackedBarsProps["series"];

/** The colour key of a chart (decorative: the chart's own title and table say the same). */
export function Legend(props: { series: Series }) {
  return (
    <p class="legend" aria-hidden="true">
      {props.series.map((s) => (
        <span>
          <i class={s.className} />
          {s.label}
        </span>
      ))}
    </p>
  );
}

/** A titled card holding a stacked bar chart and its legend. */
export function ChartCard(props: { id: string; heading: string; title: string; series: Series; data: BarDatum[] }) {
  return (
    <section class="card chart" aria-labelledby={props.id}>
      <h2 id={props.id}>{props.heading}</h2>
      <Legend series={props.series} />
      <StackedBars title={props.title} series={props.series} data={props.data} />
    </section>
  );
}

/**
 * A one-button POST form (revoke, remove, drain, cancel…) with the session's CSRF token; `label` names the action for
 * screen readers when the button's text alone would be ambiguous in a table ("Revoke" of which key).
 */
export function ActionForm(props: {
  action: string;
  csrf: string;
  button: string;
  kind?: "danger" | "secondary";
  label?: string;
  children?: Child;
}) {
  return (
    <form class="inline" method="post" action={props.action}>
      <Csrf token={props.csrf} />
      {props.children}
      <button type="submit" class={props.kind} aria-label={props.label}>
        {props.button}
      </button>
    </form>
  );
}
