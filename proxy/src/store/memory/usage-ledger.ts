import { compareIds, sumByLocalDay } from "../local-day.ts";
import type { AppendOutcome, DailyUsage, UsageByDayQuery, UsageEvent, UsageLedger, UsageTotals } from "../ports.ts";
import { assertUsageEvents, sourceOf } from "../validation.ts";
import { copy, type MemoryState } from "./state.ts";

/** The ledger in memory: a scan per query, fine for tests and development, not for months of traffic. */
export class InMemoryUsageLedger implements UsageLedger {
  constructor(private readonly state: MemoryState) {}

  async append(events: readonly UsageEvent[]): Promise<AppendOutcome[]> {
    // Validate everything before touching the state: the append is all-or-nothing, like a transaction.
    assertUsageEvents(events);
    return events.map((event) => {
      if (this.state.usageRequestIds.has(event.requestId)) return { inserted: false };
      this.state.usageRequestIds.add(event.requestId);
      this.state.usage.push({ ...copy(event), source: sourceOf(event) });
      return { inserted: true };
    });
  }

  async usageByDay(query: UsageByDayQuery): Promise<DailyUsage[]> {
    const slices = this.#select(query.customerId, query.fromMs, query.toMs).map((e) => ({
      atMs: e.occurredAt,
      planId: e.planId,
      peak: e.peak,
      currency: e.currency,
      events: 1,
      tokens: e.tokens,
      audioMs: e.audioMs,
      amountMicros: e.amountMicros,
      ...(query.bySource ? { source: sourceOf(e) } : {}),
    }));
    return sumByLocalDay(slices, query.timeZone ?? "UTC");
  }

  async totals(query: { customerId?: string; fromMs: number; toMs: number; byPlan?: boolean }): Promise<UsageTotals[]> {
    const byCurrency = new Map<string, UsageTotals>();
    for (const e of this.#select(query.customerId, query.fromMs, query.toMs)) {
      const key = query.byPlan ? `${e.planId}|${e.currency}` : e.currency;
      let t = byCurrency.get(key);
      if (t === undefined) {
        t = {
          ...(query.byPlan ? { planId: e.planId } : {}),
          currency: e.currency,
          events: 0,
          tokens: 0,
          peakTokens: 0,
          audioMs: 0,
          inputChars: 0,
          amountMicros: 0,
        };
        byCurrency.set(key, t);
      }
      t.events += 1;
      t.tokens += e.tokens;
      t.peakTokens += e.peak ? e.tokens : 0;
      t.audioMs += e.audioMs;
      t.inputChars += e.inputChars;
      t.amountMicros += e.amountMicros;
    }
    return [...byCurrency.values()].sort(
      (a, b) => compareIds(a.planId ?? "", b.planId ?? "") || compareIds(a.currency, b.currency),
    );
  }

  #select(customerId: string | undefined, fromMs: number, toMs: number): UsageEvent[] {
    return this.state.usage.filter(
      (e) => (customerId === undefined || e.customerId === customerId) && e.occurredAt >= fromMs && e.occurredAt < toMs,
    );
  }
}
