import { and, eq, gte, lt, type SQLWrapper, sql } from "drizzle-orm";
import { type SqlDb, tablesOf } from "../../../../storage/sql-db.ts";
import { sumByLocalDay } from "../../store/local-day.ts";
import type {
  AppendOutcome,
  DailyUsage,
  UsageByDayQuery,
  UsageEvent,
  UsageLedger,
  UsageTotals,
} from "../../store/ports.ts";

/**
 * Every IANA offset in use since 1972 is a multiple of 15 minutes, so a 15-minute bucket never straddles a local
 * midnight: SQL sums per bucket (one indexed range scan, ≤ 96 rows per day and flag) and the local day of each bucket
 * is found with Intl. This keeps daily usage exact across DST changes without a time zone database in SQL.
 * The literal is inlined, not bound: a bound JS number may arrive as REAL and turn `/` into float division.
 */
const BUCKET = sql.raw(String(15 * 60_000));

const total = (column: SQLWrapper) => sql<number>`coalesce(sum(${column}), 0)`.mapWith(Number);
const count = () => sql<number>`count(*)`.mapWith(Number);

/**
 * The usage ledger's read side, written once for every SQL engine. `append` is the hot path and differs per engine
 * (SQLite: one prepared statement in an IMMEDIATE transaction; D1: one batch over `json_each`), so each engine's ledger
 * extends this with its own.
 */
export abstract class SqlUsageLedger implements UsageLedger {
  constructor(protected readonly db: SqlDb) {}

  abstract append(events: readonly UsageEvent[]): Promise<AppendOutcome[]>;

  async usageByDay(query: UsageByDayQuery): Promise<DailyUsage[]> {
    const { usageEvents } = tablesOf(this.db);
    const bucket = sql<number>`(${usageEvents.occurredAt} / ${BUCKET}) * ${BUCKET}`;
    const rows = await this.db
      .select({
        atMs: bucket.mapWith(Number),
        planId: usageEvents.planId,
        peak: usageEvents.peak,
        currency: usageEvents.currency,
        events: count(),
        tokens: total(usageEvents.tokens),
        audioMs: total(usageEvents.audioMs),
        amountMicros: total(usageEvents.amountMicros),
        // With bySource, also per source; without it, a constant null (dropped below).
        source: query.bySource ? usageEvents.source : sql<null>`null`,
      })
      .from(usageEvents)
      .where(
        and(
          eq(usageEvents.customerId, query.customerId),
          gte(usageEvents.occurredAt, query.fromMs),
          lt(usageEvents.occurredAt, query.toMs),
        ),
      )
      .groupBy(
        bucket,
        usageEvents.planId,
        usageEvents.peak,
        usageEvents.currency,
        ...(query.bySource ? [usageEvents.source] : []),
      );
    return sumByLocalDay(
      rows.map(({ source, ...slice }) => (source === null ? slice : { ...slice, source })),
      query.timeZone ?? "UTC",
    );
  }

  async totals(query: { customerId?: string; fromMs: number; toMs: number; byPlan?: boolean }): Promise<UsageTotals[]> {
    const { usageEvents } = tablesOf(this.db);
    // With byPlan, also per plan: plan_id selected, grouped and ordered first; without it, a constant null.
    const plan = query.byPlan ? usageEvents.planId : sql<null>`null`;
    const rows = await this.db
      .select({
        planId: plan,
        currency: usageEvents.currency,
        events: count(),
        tokens: total(usageEvents.tokens),
        peakTokens: total(sql`case when ${usageEvents.peak} then ${usageEvents.tokens} else 0 end`),
        audioMs: total(usageEvents.audioMs),
        inputChars: total(usageEvents.inputChars),
        amountMicros: total(usageEvents.amountMicros),
      })
      .from(usageEvents)
      .where(
        and(
          query.customerId === undefined ? undefined : eq(usageEvents.customerId, query.customerId),
          gte(usageEvents.occurredAt, query.fromMs),
          lt(usageEvents.occurredAt, query.toMs),
        ),
      )
      // Postgres refuses a constant in GROUP/ORDER BY: the plan column only when it is selected.
      .groupBy(...(query.byPlan ? [usageEvents.planId] : []), usageEvents.currency)
      .orderBy(...(query.byPlan ? [usageEvents.planId] : []), usageEvents.currency);
    return rows.map(({ planId, ...t }) => (planId === null ? t : { planId, ...t }));
  }
}
