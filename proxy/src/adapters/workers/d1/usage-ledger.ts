import { and, eq, getTableColumns, getTableName, gte, lt, type SQLWrapper, sql } from "drizzle-orm";
import { usageEvents } from "../../../../../migrations/schema/index.ts";
import type { D1Db } from "../../../../../storage/d1/db.ts";
import { sumByLocalDay, type UsageSlice } from "../../../store/local-day.ts";
import type { AppendOutcome, DailyUsage, UsageEvent, UsageLedger, UsageTotals } from "../../../store/ports.ts";
import { assertUsageEvents } from "../../../store/validation.ts";

/** Every column but the ledger's own cursor, with the event field it holds. */
const EVENT_COLUMNS = Object.entries(getTableColumns(usageEvents)).filter(([field]) => field !== "id");
const EVENT_FIELDS = EVENT_COLUMNS.map(([field]) => field as keyof UsageEvent);
const q = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;
const TABLE = q(getTableName(usageEvents));
const REQUEST_ID = q(usageEvents.requestId.name);
/** Plain D1 statements, built once from the schema: drizzle's D1 batch takes no raw INSERT … SELECT. */
const PRESENT = `select ${REQUEST_ID} as "requestId" from ${TABLE} where ${REQUEST_ID} in (select value from json_each(?1))`;
const INSERT = `insert into ${TABLE} (${EVENT_COLUMNS.map(([, c]) => q(c.name)).join(", ")})
  select ${EVENT_FIELDS.map((f) => `json_extract(value, '$.${f}')`).join(", ")} from json_each(?1) where true
  on conflict (${REQUEST_ID}) do nothing`;

/** 15-minute buckets never straddle a local midnight (every IANA offset is a multiple of 15 min); inlined, not bound. */
const BUCKET = sql.raw(String(15 * 60_000));

const total = (column: SQLWrapper) => sql<number>`coalesce(sum(${column}), 0)`.mapWith(Number);
const count = () => sql<number>`count(*)`.mapWith(Number);

/**
 * The usage ledger on D1. An append is one `batch` (D1 runs a batch as one transaction) of two statements whatever the
 * number of events: the request ids already present, then one INSERT … SELECT over `json_each` of all the events with
 * ON CONFLICT (request_id) DO NOTHING. D1 binds at most 100 parameters per statement, so a row-per-parameter insert
 * would take one statement per 6 events; one JSON parameter holds a whole queue batch.
 */
export class D1UsageLedger implements UsageLedger {
  constructor(private readonly db: D1Db) {}

  async append(events: readonly UsageEvent[]): Promise<AppendOutcome[]> {
    assertUsageEvents(events);
    if (events.length === 0) return [];
    const ids = JSON.stringify(events.map((e) => e.requestId));
    const rows = JSON.stringify(events.map((e) => Object.fromEntries(EVENT_FIELDS.map((f) => [f, e[f]]))));
    const d1 = this.db.$client;
    const [present, inserted] = await d1.batch<{ requestId: string }>([
      d1.prepare(PRESENT).bind(ids),
      d1.prepare(INSERT).bind(rows),
    ]);
    const seen = new Set((present?.results ?? []).map((r) => r.requestId));
    const outcomes = events.map((e) => {
      const fresh = !seen.has(e.requestId);
      seen.add(e.requestId);
      return { inserted: fresh };
    });
    const expected = outcomes.filter((o) => o.inserted).length;
    // Both statements ran in one transaction, so the insert must have added exactly the ids that were absent.
    const added = inserted?.meta.changes ?? -1;
    if (added !== expected) throw new Error(`ledger inserted ${added} rows, expected ${expected}`);
    return outcomes;
  }

  async usageByDay(query: {
    customerId: string;
    fromMs: number;
    toMs: number;
    timeZone?: string;
  }): Promise<DailyUsage[]> {
    const bucket = sql<number>`(${usageEvents.occurredAt} / ${BUCKET}) * ${BUCKET}`;
    const slices: UsageSlice[] = await this.db
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
