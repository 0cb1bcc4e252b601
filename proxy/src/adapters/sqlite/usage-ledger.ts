import { and, eq, gte, is, lt, Param, Placeholder, type SQLWrapper, sql } from "drizzle-orm";
import { usageEvents } from "../../../../migrations/schema/index.ts";
import type { SqliteDb } from "../../../../storage/sqlite/open.ts";
import { sumByLocalDay, type UsageSlice } from "../../store/local-day.ts";
import type { AppendOutcome, DailyUsage, UsageEvent, UsageLedger, UsageTotals } from "../../store/ports.ts";
import { assertUsageEvents } from "../../store/validation.ts";

/**
 * Every IANA offset in use since 1972 is a multiple of 15 minutes, so a 15-minute bucket never straddles a local
 * midnight: SQL sums per bucket (one indexed range scan, ≤ 96 rows per day and flag) and the local day of each bucket
 * is found with Intl. This keeps daily usage exact across DST changes without a time zone database in SQLite.
 * The literal is inlined, not bound: a bound JS number may arrive as REAL and turn `/` into float division.
 */
const BUCKET = sql.raw(String(15 * 60_000));

const total = (column: SQLWrapper) => sql<number>`coalesce(sum(${column}), 0)`.mapWith(Number);
const count = () => sql<number>`count(*)`.mapWith(Number);

export class SqliteUsageLedger implements UsageLedger {
  readonly #appendAll: { immediate(events: readonly UsageEvent[]): AppendOutcome[] };

  constructor(private readonly db: SqliteDb) {
    const p = (name: keyof UsageEvent) => sql.placeholder(name);
    // The hot path: drizzle writes the statement once (ON CONFLICT on request_id only, so a CHECK or foreign-key
    // failure still fails loudly); better-sqlite3 runs it, with each value mapped by its own column. Going through
    // drizzle's prepared query per row costs several times the insert itself.
    const insert = db
      .insert(usageEvents)
      .values({
        requestId: p("requestId"),
        customerId: p("customerId"),
        apiKeyId: p("apiKeyId"),
        planId: p("planId"),
        priceVersionId: p("priceVersionId"),
        occurredAt: p("occurredAt"),
        audioMs: p("audioMs"),
        tokens: p("tokens"),
        inputChars: p("inputChars"),
        peak: p("peak"),
        multiplierBp: p("multiplierBp"),
        amountMicros: p("amountMicros"),
        currency: p("currency"),
        nodeId: p("nodeId"),
        priority: p("priority"),
      })
      .onConflictDoNothing({ target: usageEvents.requestId })
      .toSQL();
    const statement = db.$client.prepare(insert.sql);
    const fields = insert.params.map((param) => {
      // drizzle wraps each value as Param(placeholder, the column that encodes it)
      const placeholder = is(param, Param) ? param.value : param;
      if (!is(placeholder, Placeholder)) throw new Error("usage insert: expected only placeholders");
      const name = placeholder.name as keyof UsageEvent;
      return { name, column: usageEvents[name] };
    });
    const values = (event: UsageEvent) => fields.map(({ name, column }) => column.mapToDriverValue(event[name]));
    // IMMEDIATE: take the write lock up front, so a concurrent writer makes this wait (busy_timeout), never fail midway.
    this.#appendAll = db.$client.transaction((events: readonly UsageEvent[]) =>
      events.map((event) => ({ inserted: statement.run(values(event)).changes === 1 })),
    );
  }

  /** One IMMEDIATE transaction for all events: committed together or, on any error, not at all. */
  async append(events: readonly UsageEvent[]): Promise<AppendOutcome[]> {
    assertUsageEvents(events);
    return this.#appendAll.immediate(events);
  }

  async usageByDay(query: {
    customerId: string;
    fromMs: number;
    toMs: number;
    timeZone?: string;
  }): Promise<DailyUsage[]> {
    const bucket = sql<number>`(${usageEvents.occurredAt} / ${BUCKET}) * ${BUCKET}`;
    const slices: UsageSlice[] = this.db
      .select({
        atMs: bucket.mapWith(Number),
        planId: usageEvents.planId,
        peak: usageEvents.peak,
        currency: usageEvents.currency,
        events: count(),
        tokens: total(usageEvents.tokens),
        audioMs: total(usageEvents.audioMs),
        amountMicros: total(usageEvents.amountMicros),
      })
      .from(usageEvents)
      .where(
        and(
          eq(usageEvents.customerId, query.customerId),
          gte(usageEvents.occurredAt, query.fromMs),
          lt(usageEvents.occurredAt, query.toMs),
        ),
      )
      .groupBy(bucket, usageEvents.planId, usageEvents.peak, usageEvents.currency)
      .all();
    return sumByLocalDay(slices, query.timeZone ?? "UTC");
  }

  async totals(query: { customerId?: string; fromMs: number; toMs: number; byPlan?: boolean }): Promise<UsageTotals[]> {
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
      .groupBy(plan, usageEvents.currency)
      .orderBy(plan, usageEvents.currency)
      .all();
    return rows.map(({ planId, ...t }) => (planId === null ? t : { planId, ...t }));
  }
}
