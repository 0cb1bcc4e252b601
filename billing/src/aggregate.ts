import type { PriceVersion, UsageEvent } from "../../domain/records.ts";
import type { PriceBook } from "./price-book.ts";
import { amountMicrosOf } from "./rating/rate.ts";

/**
 * Per-customer, per-period aggregation of rated usage into invoice lines.
 *
 * Basic and batch usage was rated per event when it happened (the ledger row's `amountMicros`, with the price
 * version in force at that time): lines add those amounts up, so the invoice is the ledger, and a later price change
 * never reprices it. Each event is also re-rated here from its tokens, time and recorded version, and any
 * difference is reported as drift (it would mean a rating bug or a tampered row), never silently billed.
 *
 * Enterprise usage is rated at invoicing: the period's allowance (`includedTokens` of the version governing the
 * period) is consumed in time order, and tokens beyond it are overage, priced by the version in force at each
 * event's own time, rounded once per line. The monthly fee is the Stripe subscription's, not a line here.
 *
 * Lines are split by kind — off-peak, peak (with its multiplier), batch, included, overage — and by price version.
 */

export type BillableEvent = Pick<
  UsageEvent,
  | "customerId"
  | "planId"
  | "priceVersionId"
  | "occurredAt"
  | "tokens"
  | "peak"
  | "multiplierBp"
  | "amountMicros"
  | "currency"
>;

export const LINE_KINDS = ["offpeak", "peak", "batch", "included", "overage"] as const;
export type LineKind = (typeof LINE_KINDS)[number];

export interface UsageLine {
  /** Stable within the customer's period: `${kind}:${planId}:v${version}`; part of the Stripe idempotency key. */
  key: string;
  kind: LineKind;
  planId: string;
  priceVersionId: string;
  version: number;
  events: number;
  tokens: number;
  /** The exact amount of the line in micro-units (ledger amounts for basic/batch, rated overage for enterprise). */
  amountMicros: number;
  /** The version's list price per 1,000 tokens (overage price for enterprise lines). */
  unitPriceMicrosPer1k: number;
  /** The multiplier applied (peak), 10,000 otherwise. */
  multiplierBp: number;
  /** The discount applied (batch), 0 otherwise. */
  discountBp: number;
}

export type DriftCode =
  | "rerated_amount_differs"
  | "peak_flag_differs"
  | "version_not_in_force"
  | "mixed_currencies"
  | "unknown_price"
  | "enterprise_event_amount"
  // Found when reconciling with Stripe:
  | "carry_forfeited"
  | "ledger_changed_after_planning"
  | "invoice_total_differs"
  | "invoice_lines_differ"
  | "out_of_order";

export interface Drift {
  code: DriftCode;
  message: string;
  events?: number;
  micros?: number;
}

export interface EnterpriseSummary {
  priceVersionId: string;
  includedTokens: number;
  includedUsed: number;
  overageTokens: number;
  monthlyFeeMicros: number;
}

export interface AggregatedUsage {
  customerId: string;
  /** The single currency of the period's usage; null when there was none (or several: see drift). */
  currency: string | null;
  events: number;
  tokens: number;
  /** Σ line amounts: what the period owes, in micros, before carry-in. */
  amountMicros: number;
  lines: UsageLine[];
  drift: Drift[];
  /** True when the usage cannot be invoiced as is (mixed currencies, unknown prices): a person must look. */
  blocked: boolean;
  enterprise: EnterpriseSummary | null;
}

interface Acc {
  events: number;
  tokens: number;
  amountMicros: number;
  multiplierBp: number;
}

const KIND_INDEX: Record<LineKind, number> = { offpeak: 0, peak: 1, batch: 2, included: 3, overage: 4 };

/** Accumulates one customer's events of one period; `add` is the hot path (no allocation per event but the rating). */
export class CustomerPeriodAggregator {
  readonly #accs = new Map<string, (Acc | undefined)[]>();
  readonly #currencies = new Set<string>();
  #lastCurrency: string | null = null;
  readonly #enterprise: { at: number; tokens: number; versionId: string; planId: string }[] = [];
  readonly #drift = new Map<DriftCode, Drift>();
  #events = 0;
  #tokens = 0;

  constructor(
    private readonly book: PriceBook,
    private readonly period: { customerId: string; fromMs: number; toMs: number },
  ) {}

  add(e: BillableEvent): void {
    this.#events++;
    this.#tokens += e.tokens;
    if (e.currency !== this.#lastCurrency) {
      this.#lastCurrency = e.currency;
      this.#currencies.add(e.currency);
    }
    const ctx = this.book.rating(e.priceVersionId);
    if (!ctx || ctx.plan.id !== e.planId) {
      this.#note("unknown_price", `no price version ${e.priceVersionId} of plan ${e.planId}`, 1, e.amountMicros);
      return;
    }
    const { plan, version } = ctx;
    if (e.occurredAt < ctx.from || e.occurredAt >= ctx.until) {
      this.#note("version_not_in_force", "events rated with a version that was not in force at their time", 1);
    }
    if (plan.kind === "enterprise") {
      if (e.amountMicros !== 0) {
        this.#note("enterprise_event_amount", "enterprise events carry an amount (they are rated at invoicing)", 1);
      }
      this.#enterprise.push({ at: e.occurredAt, tokens: e.tokens, versionId: version.id, planId: e.planId });
      return;
    }
    const peak = ctx.peak(e.occurredAt);
    // Re-rate exactly as `rateUsage` did when the event was metered (same integer formula, no allocation).
    const bp = plan.kind === "batch" ? 10_000 - version.batchDiscountBp : peak ? version.peakMultiplierBp : 10_000;
    const rerated = amountMicrosOf(e.tokens, version.unitPriceMicrosPer1kTokens, bp);
    if (rerated !== e.amountMicros) {
      this.#note(
        "rerated_amount_differs",
        "re-rating gives another amount than the ledger (the ledger amount is billed)",
        1,
        Math.abs(rerated - e.amountMicros),
      );
    }
    if (peak !== e.peak) this.#note("peak_flag_differs", "the peak flag differs from the version's windows", 1);
    const kind: LineKind = plan.kind === "batch" ? "batch" : e.peak ? "peak" : "offpeak";
    const acc = this.#acc(version.id, kind, e.multiplierBp);
    acc.events++;
    acc.tokens += e.tokens;
    acc.amountMicros += e.amountMicros;
  }

  result(): AggregatedUsage {
    const enterprise = this.#settleEnterprise();
    const lines: UsageLine[] = [];
    for (const [versionId, accs] of this.#accs) {
      const version = this.book.version(versionId) as PriceVersion;
      accs.forEach((acc, i) => {
        if (!acc) return;
        const kind = LINE_KINDS[i] as LineKind;
        lines.push({
          key: `${kind}:${version.planId}:v${version.version}`,
          kind,
          planId: version.planId,
          priceVersionId: version.id,
          version: version.version,
          events: acc.events,
          tokens: acc.tokens,
          amountMicros: acc.amountMicros,
          unitPriceMicrosPer1k:
            kind === "overage" || kind === "included"
              ? (version.overagePriceMicrosPer1kTokens ?? 0)
              : version.unitPriceMicrosPer1kTokens,
          multiplierBp: kind === "peak" ? acc.multiplierBp : 10_000,
          discountBp: kind === "batch" ? version.batchDiscountBp : 0,
        });
      });
    }
    lines.sort((a, b) => a.version - b.version || KIND_INDEX[a.kind] - KIND_INDEX[b.kind] || (a.key < b.key ? -1 : 1));
    const currencies = [...this.#currencies.keys()];
    if (currencies.length > 1) {
      this.#note("mixed_currencies", `usage in several currencies (${currencies.join(", ")}) in one period`);
    }
    const drift = [...this.#drift.values()];
    return {
      customerId: this.period.customerId,
      currency: currencies.length === 1 ? (currencies[0] as string) : null,
      events: this.#events,
      tokens: this.#tokens,
      amountMicros: lines.reduce((sum, l) => sum + l.amountMicros, 0),
      lines,
      drift,
      blocked: drift.some((d) => d.code === "mixed_currencies" || d.code === "unknown_price"),
      enterprise,
    };
  }

  #settleEnterprise(): EnterpriseSummary | null {
    if (this.#enterprise.length === 0) return null;
    const events = this.#enterprise.sort((a, b) => a.at - b.at);
    const planId = (events[0] as { planId: string }).planId;
    const governing = this.book.versionForPeriod(planId, this.period.fromMs, this.period.toMs);
    if (!governing) return null;
    let allowance = governing.includedTokens;
    let overageTokens = 0;
    const overageByVersion = new Map<string, { tokens: number; events: number }>();
    for (const e of events) {
      const included = Math.min(allowance, e.tokens);
      allowance -= included;
      if (included > 0) {
        const acc = this.#acc(governing.id, "included", 10_000);
        acc.events++;
        acc.tokens += included;
      }
      const over = e.tokens - included;
      if (over > 0) {
        overageTokens += over;
        const o = overageByVersion.get(e.versionId) ?? { tokens: 0, events: 0 };
        o.tokens += over;
        o.events++;
        overageByVersion.set(e.versionId, o);
      }
    }
    for (const [versionId, o] of overageByVersion) {
      const v = this.book.version(versionId) as PriceVersion;
      const acc = this.#acc(versionId, "overage", 10_000);
      acc.events += o.events;
      acc.tokens += o.tokens;
      acc.amountMicros += amountMicrosOf(
        o.tokens,
        v.overagePriceMicrosPer1kTokens ?? v.unitPriceMicrosPer1kTokens,
        10_000,
      );
    }
    return {
      priceVersionId: governing.id,
      includedTokens: governing.includedTokens,
      includedUsed: governing.includedTokens - allowance,
      overageTokens,
      monthlyFeeMicros: governing.monthlyFeeMicros,
    };
  }

  #acc(versionId: string, kind: LineKind, multiplierBp: number): Acc {
    let accs = this.#accs.get(versionId);
    if (!accs) {
      accs = [undefined, undefined, undefined, undefined, undefined];
      this.#accs.set(versionId, accs);
    }
    const i = KIND_INDEX[kind];
    let acc = accs[i];
    if (!acc) {
      acc = { events: 0, tokens: 0, amountMicros: 0, multiplierBp };
      accs[i] = acc;
    }
    return acc;
  }

  #note(code: DriftCode, message: string, events = 0, micros = 0): void {
    const d = this.#drift.get(code) ?? { code, message, events: 0, micros: 0 };
    d.events = (d.events ?? 0) + events;
    d.micros = (d.micros ?? 0) + micros;
    this.#drift.set(code, d);
  }
}

/** One-shot form: aggregate a customer's events of a period. */
export function aggregateUsage(
  book: PriceBook,
  period: { customerId: string; fromMs: number; toMs: number },
  events: Iterable<BillableEvent>,
): AggregatedUsage {
  const agg = new CustomerPeriodAggregator(book, period);
  for (const e of events) agg.add(e);
  return agg.result();
}
