import { compareIds } from "../store/local-day.ts";
import type { UsageTotals } from "../store/ports.ts";

/**
 * Per-currency totals summed from per-plan rows (`ledger.totals({ byPlan: true })`): one query answers both splits.
 * Integer sums: exact (micro-units stay far below 2^53).
 */
export function currencyTotals(byPlan: readonly UsageTotals[]): UsageTotals[] {
  const out = new Map<string, UsageTotals>();
  for (const { planId: _plan, ...row } of byPlan) {
    const t = out.get(row.currency);
    if (t === undefined) {
      out.set(row.currency, { ...row });
      continue;
    }
    t.events += row.events;
    t.tokens += row.tokens;
    t.peakTokens += row.peakTokens;
    t.audioMs += row.audioMs;
    t.inputChars += row.inputChars;
    t.amountMicros += row.amountMicros;
  }
  return [...out.values()].sort((a, b) => compareIds(a.currency, b.currency));
}
