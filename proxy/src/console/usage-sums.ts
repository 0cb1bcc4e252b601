import { USAGE_SOURCES } from "../../../migrations/schema/index.ts";
import type { DailyUsage, UsageSource, UsageTotals } from "../store/ports.ts";

/** Totals of day rows per group key (plan and currency, or currency), in first-seen order (the rows are sorted). */
export function sumRows(rows: readonly DailyUsage[], key: (r: DailyUsage) => string): UsageTotals[] {
  const out = new Map<string, UsageTotals>();
  for (const r of rows) {
    const k = key(r);
    const t = out.get(k) ?? {
      planId: r.planId,
      currency: r.currency,
      events: 0,
      tokens: 0,
      peakTokens: 0,
      audioMs: 0,
      inputChars: 0,
      amountMicros: 0,
    };
    t.events += r.events;
    t.tokens += r.tokens;
    if (r.peak) t.peakTokens += r.tokens;
    t.audioMs += r.audioMs;
    t.amountMicros += r.amountMicros;
    out.set(k, t);
  }
  return [...out.values()];
}

/** How each source reads on a page (the CSV keeps the stored value). */
export const SOURCE_LABELS: Record<UsageSource, string> = { api: "API", playground: "playground", job: "batch jobs" };

/** A day row's source (rows read without `bySource` count as the API's). */
export const sourceOfRow = (r: DailyUsage): UsageSource => r.source ?? "api";

/** Totals per source and currency of day rows read `bySource`, sources in a fixed order (api, playground, job). */
export function totalsBySource(rows: readonly DailyUsage[]): (UsageTotals & { source: UsageSource })[] {
  return USAGE_SOURCES.flatMap((source) =>
    sumRows(
      rows.filter((r) => sourceOfRow(r) === source),
      (r) => r.currency,
    ).map((t) => ({ ...t, source })),
  );
}
