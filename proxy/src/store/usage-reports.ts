import {
  priceTokens,
  type Plan as RatedPlan,
  type PriceVersion as RatingVersion,
} from "../../../billing/src/rating/rate.ts";
import type { UsageTotals } from "./ports.ts";

/**
 * Reports over every customer's usage (the admin console's revenue by day, plan and customer, and the price preview),
 * answered from rollups of the ledger instead of a scan of it. Each answer equals what the ledger itself would give
 * for the same range, to the micro-unit: the rollups are exact sums, and a range that does not start or end on a UTC
 * midnight reads its partial days from the ledger.
 */
export interface UsageReports {
  /** Folds ledger rows appended since the last fold into the rollups; returns how many row ids it advanced. */
  catchUp(): Promise<number>;
  /** Every customer's usage in [fromMs, toMs): as `UsageLedger.totals` without a customer. */
  totals(query: { fromMs: number; toMs: number; byPlan?: boolean }): Promise<UsageTotals[]>;
  /** Per UTC day, plan and currency, ascending by day, then plan, then currency. */
  byDay(query: { fromMs: number; toMs: number }): Promise<DayPlanUsage[]>;
  /** Per customer (of those given), plan and currency, sorted so: `UsageLedger.totals` of each, `byPlan`. */
  customerTotals(query: {
    customerIds: readonly string[];
    fromMs: number;
    toMs: number;
  }): Promise<(UsageTotals & { customerId: string; planId: string })[]>;
  /** The customers with the greatest amounts (per currency) in [fromMs, toMs), greatest first, at most `limit`. */
  topCustomers(query: { fromMs: number; toMs: number; limit: number }): Promise<CustomerUsage[]>;
  /** How many events of each token count a plan had in [fromMs, toMs), per peak flag and currency. */
  tokenCounts(query: { planId: string; fromMs: number; toMs: number }): Promise<TokenCount[]>;
}

export interface DayPlanUsage {
  /** the UTC day, "YYYY-MM-DD" */
  day: string;
  planId: string;
  currency: string;
  events: number;
  tokens: number;
  peakTokens: number;
  amountMicros: number;
}

export interface CustomerUsage {
  customerId: string;
  currency: string;
  events: number;
  tokens: number;
  peakTokens: number;
  amountMicros: number;
}

export interface TokenCount {
  peak: boolean;
  currency: string;
  tokens: number;
  events: number;
}

export const DAY_MS = 86_400_000;

export function utcDay(dayMs: number): string {
  return new Date(dayMs).toISOString().slice(0, 10);
}

/**
 * [fromMs, toMs) split into the whole UTC days inside it (`[wholeFrom, wholeTo)`, empty when wholeFrom ≥ wholeTo)
 * and the partial days at its ends (`edges`, each [from, to)), which only the ledger can answer.
 */
export function splitDays(
  fromMs: number,
  toMs: number,
): { wholeFrom: number; wholeTo: number; edges: [number, number][] } {
  const wholeFrom = Math.ceil(fromMs / DAY_MS) * DAY_MS;
  const wholeTo = Math.floor(toMs / DAY_MS) * DAY_MS;
  if (wholeFrom >= wholeTo) return { wholeFrom: 0, wholeTo: 0, edges: fromMs < toMs ? [[fromMs, toMs]] : [] };
  const edges: [number, number][] = [];
  if (fromMs < wholeFrom) edges.push([fromMs, wholeFrom]);
  if (wholeTo < toMs) edges.push([wholeTo, toMs]);
  return { wholeFrom, wholeTo, edges };
}

/**
 * What the counted events would have cost under `version`, exactly as rating prices each event (rounded once per
 * event, half up), with each event's recorded peak flag: Σ events × price(tokens). Only the counts in `currency`.
 */
export function repriceTokenCounts(
  counts: readonly TokenCount[],
  plan: RatedPlan,
  currency: string,
  version: Pick<RatingVersion, "unitPriceMicrosPer1k" | "peakMultiplierBp" | "batchDiscountBp">,
): number {
  let micros = 0;
  for (const c of counts) {
    if (c.currency !== currency) continue;
    micros += c.events * priceTokens({ tokens: c.tokens, plan, version, peak: c.peak }).amountMicros;
  }
  return micros;
}
