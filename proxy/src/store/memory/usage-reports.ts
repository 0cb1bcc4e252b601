import { compareIds } from "../local-day.ts";
import type { UsageTotals } from "../ports.ts";
import {
  type CustomerUsage,
  DAY_MS,
  type DayPlanUsage,
  type TokenCount,
  type UsageReports,
  utcDay,
} from "../usage-reports.ts";
import type { MemoryState } from "./state.ts";
import { InMemoryUsageLedger } from "./usage-ledger.ts";

/** The reports in memory: a scan of the events per query (nothing to fold), fine for tests and development. */
export class InMemoryUsageReports implements UsageReports {
  readonly #ledger: InMemoryUsageLedger;

  constructor(private readonly state: MemoryState) {
    this.#ledger = new InMemoryUsageLedger(state);
  }

  async catchUp(): Promise<number> {
    return 0;
  }

  totals(query: { fromMs: number; toMs: number; byPlan?: boolean }): Promise<UsageTotals[]> {
    return this.#ledger.totals(query);
  }

  async customerTotals(query: {
    customerIds: readonly string[];
    fromMs: number;
    toMs: number;
  }): Promise<(UsageTotals & { customerId: string; planId: string })[]> {
    const ids = [...new Set(query.customerIds)].sort(compareIds);
    const out: (UsageTotals & { customerId: string; planId: string })[] = [];
    for (const customerId of ids) {
      for (const t of await this.#ledger.totals({ customerId, fromMs: query.fromMs, toMs: query.toMs, byPlan: true })) {
        out.push({ ...t, customerId, planId: t.planId ?? "" });
      }
    }
    return out;
  }

  async byDay(query: { fromMs: number; toMs: number }): Promise<DayPlanUsage[]> {
    const out = new Map<string, DayPlanUsage & { dayMs: number }>();
    for (const e of this.#select(query.fromMs, query.toMs)) {
      const dayMs = Math.floor(e.occurredAt / DAY_MS) * DAY_MS;
      const key = `${dayMs}|${e.planId}|${e.currency}`;
      let row = out.get(key);
      if (!row) {
        row = {
          dayMs,
          day: utcDay(dayMs),
          planId: e.planId,
          currency: e.currency,
          events: 0,
          tokens: 0,
          peakTokens: 0,
          amountMicros: 0,
        };
        out.set(key, row);
      }
      row.events += 1;
      row.tokens += e.tokens;
      row.peakTokens += e.peak ? e.tokens : 0;
      row.amountMicros += e.amountMicros;
    }
    return [...out.values()]
      .sort((a, b) => a.dayMs - b.dayMs || compareIds(a.planId, b.planId) || compareIds(a.currency, b.currency))
      .map(({ dayMs: _, ...row }) => row);
  }

  async topCustomers(query: { fromMs: number; toMs: number; limit: number }): Promise<CustomerUsage[]> {
    const out = new Map<string, CustomerUsage>();
    for (const e of this.#select(query.fromMs, query.toMs)) {
      const key = `${e.customerId}|${e.currency}`;
      let row = out.get(key);
      if (!row) {
        row = { customerId: e.customerId, currency: e.currency, events: 0, tokens: 0, peakTokens: 0, amountMicros: 0 };
        out.set(key, row);
      }
      row.events += 1;
      row.tokens += e.tokens;
      row.peakTokens += e.peak ? e.tokens : 0;
      row.amountMicros += e.amountMicros;
    }
    return [...out.values()].sort(byAmountDesc).slice(0, query.limit);
  }

  async tokenCounts(query: { planId: string; fromMs: number; toMs: number }): Promise<TokenCount[]> {
    const out = new Map<string, TokenCount>();
    for (const e of this.#select(query.fromMs, query.toMs)) {
      if (e.planId !== query.planId) continue;
      const key = `${e.peak}|${e.currency}|${e.tokens}`;
      const row = out.get(key) ?? { peak: e.peak, currency: e.currency, tokens: e.tokens, events: 0 };
      row.events += 1;
      out.set(key, row);
    }
    return [...out.values()].sort(byTokenKey);
  }

  #select(fromMs: number, toMs: number) {
    return this.state.usage.filter((e) => e.occurredAt >= fromMs && e.occurredAt < toMs);
  }
}

/** Greatest amount first; ties by customer id, then currency (the same order the SQL reports use). */
export function byAmountDesc(a: CustomerUsage, b: CustomerUsage): number {
  return (
    b.amountMicros - a.amountMicros || compareIds(a.customerId, b.customerId) || compareIds(a.currency, b.currency)
  );
}

export function byTokenKey(a: TokenCount, b: TokenCount): number {
  return Number(a.peak) - Number(b.peak) || compareIds(a.currency, b.currency) || a.tokens - b.tokens;
}
