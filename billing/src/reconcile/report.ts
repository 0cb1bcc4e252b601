import { currencyRules, formatMicros } from "../../../domain/money.ts";
import type { Drift } from "../aggregate.ts";
import type { Period } from "../period.ts";
import type { InvoiceSync } from "../store/ports.ts";
import type { InvoicePlan } from "./plan.ts";

/**
 * The reconciliation report: per customer, the ledger total of the period against the Stripe invoice total.
 *
 * They are equal to the micro-unit once the sub-step remainder is accounted for: Stripe can only bill whole cents
 * (yen, 10 fils …), so `invoice = ledger + carry_in − carry_out`, where carry-out (< one step) is carried into the
 * customer's next period, never dropped. `equal` checks exactly that; `drift` names anything else (a Stripe total
 * other than planned, a ledger that changed after planning, re-rating differences, a blocked period).
 */
export interface CustomerReport {
  customer_id: string;
  period: string;
  state: string;
  currency: string | null;
  plan_kind: string | null;
  events: number;
  tokens: number;
  ledger_micros: number;
  carry_in_micros: number;
  carry_out_micros: number;
  billed_micros: number;
  total_minor: number;
  stripe: {
    customer_id: string | null;
    invoice_id: string | null;
    status: string | null;
    number: string | null;
    total_minor: number | null;
    total_micros: number | null;
  } | null;
  /** Stripe's invoice total = ledger + carry-in − carry-out, exactly. Null while there is no finalised invoice. */
  equal: boolean | null;
  /** Human-readable: "ledger 1.234567 USD = invoice 1.23 USD + 0.004567 USD carried to the next period". */
  explanation: string;
  drift: Drift[];
  lines: {
    key: string;
    description: string;
    tokens: number;
    amount_micros: number;
    amount_minor: number;
  }[];
  enterprise: InvoicePlan["enterprise"];
  error: string | null;
}

export interface PeriodReport {
  period: string;
  generated_at: string;
  customers: CustomerReport[];
  totals: { currency: string; ledger_micros: number; billed_micros: number; stripe_total_micros: number }[];
  /** Every invoiced customer is `equal` and nothing drifted or failed. */
  ok: boolean;
}

const FINAL_OK = new Set(["reconciled", "nothing_to_bill", "not_closed"]);

export function customerReport(input: {
  customerId: string;
  period: string;
  state: string;
  sync: InvoiceSync | null;
  drift?: Drift[];
  error?: string;
}): CustomerReport {
  const { sync } = input;
  const plan = (sync?.plan ?? null) as InvoicePlan | null;
  const currency = sync?.currency ?? null;
  const rules = currency ? currencyRules(currency) : null;
  const stripeTotalMicros =
    sync?.stripeTotalMinor != null && rules ? sync.stripeTotalMinor * rules.microsPerMinor : null;
  const equal =
    sync && stripeTotalMicros !== null
      ? stripeTotalMicros + sync.carryOutMicros === sync.ledgerMicros + sync.carryInMicros
      : sync?.state === "nothing_to_bill"
        ? sync.billedMicros === 0 && sync.carryOutMicros === sync.ledgerMicros + sync.carryInMicros
        : null;
  const drift = [...(plan?.drift ?? []), ...(input.drift ?? [])];
  if (sync?.error && sync.state === "drift") drift.push(...parseDrift(sync.error));
  const cur = currency?.toUpperCase() ?? "";
  const explanation = !sync
    ? input.state
    : sync.state === "blocked"
      ? `blocked: ${sync.error ?? "usage cannot be invoiced as is"}`
      : `ledger ${formatMicros(sync.ledgerMicros)} ${cur} + carried in ${formatMicros(sync.carryInMicros)} = invoice ${formatMicros(
          stripeTotalMicros ?? sync.billedMicros,
        )} ${cur}${stripeTotalMicros === null ? " (planned)" : ""} + carried to the next period ${formatMicros(sync.carryOutMicros)}`;
  return {
    customer_id: input.customerId,
    period: input.period,
    state: input.state,
    currency,
    plan_kind: plan?.planKind ?? null,
    events: sync?.events ?? 0,
    tokens: sync?.tokens ?? 0,
    ledger_micros: sync?.ledgerMicros ?? 0,
    carry_in_micros: sync?.carryInMicros ?? 0,
    carry_out_micros: sync?.carryOutMicros ?? 0,
    billed_micros: sync?.billedMicros ?? 0,
    total_minor: sync?.totalMinor ?? 0,
    stripe: sync?.stripeInvoiceId
      ? {
          customer_id: sync.stripeCustomerId,
          invoice_id: sync.stripeInvoiceId,
          status: sync.stripeInvoiceStatus,
          number: sync.stripeInvoiceNumber,
          total_minor: sync.stripeTotalMinor,
          total_micros: stripeTotalMicros,
        }
      : null,
    equal,
    explanation,
    drift,
    lines: (plan?.lines ?? []).map((l) => ({
      key: l.key,
      description: l.description,
      tokens: l.tokens,
      amount_micros: l.amountMicros,
      amount_minor: l.amountMinor,
    })),
    enterprise: plan?.enterprise ?? null,
    error: input.error ?? null,
  };
}

/** A `drift` row's error column holds the drift found (JSON); older or hand-written text is kept as one item. */
function parseDrift(error: string): Drift[] {
  try {
    const parsed = JSON.parse(error) as unknown;
    if (Array.isArray(parsed)) return parsed as Drift[];
  } catch {
    // not JSON
  }
  return [{ code: "invoice_lines_differ", message: error }];
}

export function periodReport(period: Period, nowMs: number, customers: CustomerReport[]): PeriodReport {
  const totals = new Map<
    string,
    { currency: string; ledger_micros: number; billed_micros: number; stripe_total_micros: number }
  >();
  for (const c of customers) {
    if (!c.currency) continue;
    const t = totals.get(c.currency) ?? {
      currency: c.currency,
      ledger_micros: 0,
      billed_micros: 0,
      stripe_total_micros: 0,
    };
    t.ledger_micros += c.ledger_micros;
    t.billed_micros += c.billed_micros;
    t.stripe_total_micros += c.stripe?.total_micros ?? 0;
    totals.set(c.currency, t);
  }
  const ok = customers.every(
    (c) => FINAL_OK.has(c.state) && c.equal !== false && c.error === null && c.drift.length === 0,
  );
  return {
    period: period.id,
    generated_at: new Date(nowMs).toISOString(),
    customers,
    totals: [...totals.values()],
    ok,
  };
}

/** A fixed-width text table of a report, for the CLI. */
export function formatReport(report: PeriodReport): string {
  const rows = [["customer", "state", "cur", "ledger", "carry in", "invoice", "carry out", "equal", "drift"]];
  for (const c of report.customers) {
    rows.push([
      c.customer_id,
      c.state,
      c.currency ?? "-",
      formatMicros(c.ledger_micros),
      formatMicros(c.carry_in_micros),
      c.stripe?.total_micros != null ? formatMicros(c.stripe.total_micros) : `(${formatMicros(c.billed_micros)})`,
      formatMicros(c.carry_out_micros),
      c.equal === null ? "-" : c.equal ? "yes" : "NO",
      c.drift.map((d) => d.code).join(",") || (c.error ? `error: ${c.error}` : "-"),
    ]);
  }
  const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const lines = rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd(),
  );
  lines.push("");
  for (const t of report.totals) {
    lines.push(
      `${t.currency}: ledger ${formatMicros(t.ledger_micros)}, billed ${formatMicros(t.billed_micros)}, Stripe ${formatMicros(t.stripe_total_micros)}`,
    );
  }
  lines.push(
    report.ok
      ? "OK: every invoice equals its ledger total (carries accounted), no drift"
      : "NOT OK: see states and drift",
  );
  return lines.join("\n");
}
