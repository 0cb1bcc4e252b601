import { apportion, currencyRules, formatMicros } from "../../../domain/money.ts";
import type { Customer, Plan } from "../../../domain/records.ts";
import {
  type AggregatedUsage,
  CustomerPeriodAggregator,
  type Drift,
  type EnterpriseSummary,
  type UsageLine,
} from "../aggregate.ts";
import { type Period, periodBounds } from "../period.ts";
import type { PriceBook } from "../price-book.ts";
import type { InvoiceSync, NewInvoiceSync, UsageSource } from "../store/ports.ts";

/** One line of the invoice as it will be sent to Stripe (an invoice item), frozen in the sync row. */
export interface PlannedLine extends UsageLine {
  /** Stripe minor units; Σ over lines = the invoice total. */
  amountMinor: number;
  description: string;
}

/** The `plan` JSON of a sync row: everything the Stripe calls are made from, and the report explains. */
export interface InvoicePlan {
  planId: string;
  planKind: Plan["kind"];
  lines: PlannedLine[];
  drift: Drift[];
  enterprise: EnterpriseSummary | null;
  /** The usage that could not be invoiced as is (blocked periods keep it here, not in the totals). */
  blockedUsage: { events: number; amountMicros: number } | null;
}

const fmtInt = (n: number) => n.toLocaleString("en-US");

/** micros × bp / 10,000 as an exact decimal of major units ("0.013"). */
function unitPrice(micros: number, bp: number): string {
  const scaled = BigInt(micros) * BigInt(bp); // micro-units × 10^-4
  const whole = scaled / 10_000_000_000n;
  const frac = (scaled % 10_000_000_000n).toString().padStart(10, "0").replace(/0+$/, "");
  return frac ? `${whole}.${frac}` : `${whole}`;
}

export function describeLine(line: UsageLine, plan: Plan, currency: string): string {
  const per = `${currency.toUpperCase()} per 1,000 tokens`;
  const tag = `${plan.name} v${line.version}`;
  switch (line.kind) {
    case "offpeak":
      return `Off-peak usage — ${fmtInt(line.tokens)} tokens × ${unitPrice(line.unitPriceMicrosPer1k, 10_000)} ${per} (${tag})`;
    case "peak":
      return `Peak usage (×${unitPrice(line.multiplierBp * 1_000_000, 1)}) — ${fmtInt(line.tokens)} tokens × ${unitPrice(line.unitPriceMicrosPer1k, line.multiplierBp)} ${per} (${tag})`;
    case "batch":
      return `Batch usage (${line.discountBp / 100} % off, no peak surcharge) — ${fmtInt(line.tokens)} tokens × ${unitPrice(line.unitPriceMicrosPer1k, 10_000 - line.discountBp)} ${per} (${tag})`;
    case "included":
      return `Included tokens — ${fmtInt(line.tokens)} tokens, covered by the monthly fee (${tag})`;
    case "overage":
      return `Overage — ${fmtInt(line.tokens)} tokens beyond the included allowance × ${unitPrice(line.unitPriceMicrosPer1k, 10_000)} ${per} (${tag})`;
  }
}

/** Metadata of a line's invoice item: the exact amounts behind the rounded Stripe amount. */
export function lineMetadata(line: PlannedLine, ctx: { customerId: string; period: string; currency: string }) {
  return {
    billing_key: `${ctx.customerId}:${ctx.period}`,
    customer_id: ctx.customerId,
    period: ctx.period,
    line_key: line.key,
    kind: line.kind,
    tokens: String(line.tokens),
    events: String(line.events),
    unit_price_micros_per_1k: String(line.unitPriceMicrosPer1k),
    multiplier_bp: String(line.multiplierBp),
    discount_bp: String(line.discountBp),
    amount_micros: String(line.amountMicros),
    currency: ctx.currency,
    price_version_id: line.priceVersionId,
  };
}

export interface PlanInputs {
  book: PriceBook;
  usage: UsageSource;
  syncs: { latestBefore(customerId: string, period: string): Promise<InvoiceSync | null> };
  customer: Customer;
  period: Period;
}

/**
 * Reads a customer's usage of a period and freezes what to invoice: the lines (rated, split, described), the
 * carry-in from the previous period, the apportioning into whole chargeable steps and the carry-out.
 */
export async function planCustomerPeriod({
  book,
  usage,
  syncs,
  customer,
  period,
}: PlanInputs): Promise<NewInvoiceSync> {
  const plan = planOf(book, customer);
  const bounds = periodBounds(period, plan.timeZone);
  const agg = new CustomerPeriodAggregator(book, { customerId: customer.id, fromMs: bounds.fromMs, toMs: bounds.toMs });
  for await (const batch of usage.scan({ customerId: customer.id, fromMs: bounds.fromMs, toMs: bounds.toMs })) {
    for (const e of batch) agg.add(e);
  }
  return finishPlan({
    book,
    customer,
    period,
    used: agg.result(),
    previous: await syncs.latestBefore(customer.id, period.id),
  });
}

/**
 * `planCustomerPeriod` for many customers with one pass over the period's usage (`UsageSource.scanPeriod`), or one
 * scan per customer where the source has no bulk read. Same plans either way.
 */
export async function planPeriod(inputs: Omit<PlanInputs, "customer"> & { customers: readonly Customer[] }) {
  const { book, usage, syncs, period, customers } = inputs;
  const plans = new Map<string, NewInvoiceSync>();
  const scanPeriod = usage.scanPeriod?.bind(usage);
  if (!scanPeriod) {
    for (const customer of customers) plans.set(customer.id, await planCustomerPeriod({ ...inputs, customer }));
    return plans;
  }
  const aggs = new Map<string, { agg: CustomerPeriodAggregator; fromMs: number; toMs: number }>();
  let fromMs = Number.POSITIVE_INFINITY;
  let toMs = Number.NEGATIVE_INFINITY;
  for (const customer of customers) {
    const bounds = periodBounds(period, planOf(book, customer).timeZone);
    aggs.set(customer.id, {
      agg: new CustomerPeriodAggregator(book, { customerId: customer.id, ...bounds }),
      ...bounds,
    });
    fromMs = Math.min(fromMs, bounds.fromMs);
    toMs = Math.max(toMs, bounds.toMs);
  }
  if (aggs.size === 0) return plans;
  for await (const batch of scanPeriod({ fromMs, toMs })) {
    for (const e of batch) {
      const a = aggs.get(e.customerId);
      // Plans in different zones have different months: each customer takes the events of its own.
      if (a && e.occurredAt >= a.fromMs && e.occurredAt < a.toMs) a.agg.add(e);
    }
  }
  for (const customer of customers) {
    const a = aggs.get(customer.id) as { agg: CustomerPeriodAggregator };
    const previous = await syncs.latestBefore(customer.id, period.id);
    plans.set(customer.id, finishPlan({ book, customer, period, used: a.agg.result(), previous }));
  }
  return plans;
}

function planOf(book: PriceBook, customer: Customer): Plan {
  const plan = book.plan(customer.planId);
  if (!plan) throw new Error(`customer ${customer.id} is on unknown plan ${customer.planId}`);
  return plan;
}

/** The frozen plan of an aggregated period: carry-in from the previous period, apportioning, carry-out. */
function finishPlan(input: {
  book: PriceBook;
  customer: Customer;
  period: Period;
  used: AggregatedUsage;
  previous: InvoiceSync | null;
}): NewInvoiceSync {
  const { book, customer, period, used, previous } = input;
  const plan = planOf(book, customer);
  const bounds = periodBounds(period, plan.timeZone);
  const currency = used.currency ?? plan.currency;
  const drift = [...used.drift];

  let carryIn = 0;
  if (previous && previous.carryOutMicros > 0) {
    if (previous.currency === null || previous.currency === currency) carryIn = previous.carryOutMicros;
    else {
      drift.push({
        code: "carry_forfeited",
        message: `a remainder of ${formatMicros(previous.carryOutMicros)} ${previous.currency} from ${previous.period} cannot carry into ${currency}`,
        micros: previous.carryOutMicros,
      });
    }
  }
  // A carry must be below one step of the currency (a foreign one is dropped above, so this holds).
  if (carryIn >= currencyRules(currency).microsPerStep) carryIn = 0;
  const base = {
    customerId: customer.id,
    period: period.id,
    currency: used.currency ?? (used.events === 0 ? plan.currency : null),
    timeZone: plan.timeZone,
    fromMs: bounds.fromMs,
    toMs: bounds.toMs,
    events: used.events,
    tokens: used.tokens,
    error: null,
  };
  if (used.blocked) {
    const doc: InvoicePlan = {
      planId: plan.id,
      planKind: plan.kind,
      lines: [],
      drift,
      enterprise: used.enterprise,
      blockedUsage: { events: used.events, amountMicros: used.amountMicros },
    };
    return {
      ...base,
      state: "blocked",
      ledgerMicros: 0,
      carryInMicros: carryIn,
      carryOutMicros: carryIn,
      billedMicros: 0,
      totalMinor: 0,
      plan: doc,
      error: drift.map((d) => d.message).join("; "),
    };
  }
  const split = apportion(
    used.lines.map((l) => l.amountMicros),
    carryIn,
    currency,
  );
  const lines: PlannedLine[] = used.lines.map((l, i) => ({
    ...l,
    amountMinor: split.linesMinor[i] ?? 0,
    description: describeLine(l, book.plan(l.planId) ?? plan, currency),
  }));
  const doc: InvoicePlan = {
    planId: plan.id,
    planKind: plan.kind,
    lines,
    drift,
    enterprise: used.enterprise,
    blockedUsage: null,
  };
  return {
    ...base,
    state: split.totalMinor > 0 ? "planned" : "nothing_to_bill",
    ledgerMicros: used.amountMicros,
    carryInMicros: carryIn,
    carryOutMicros: split.carryOutMicros,
    billedMicros: split.billedMicros,
    totalMinor: split.totalMinor,
    plan: doc,
  };
}
