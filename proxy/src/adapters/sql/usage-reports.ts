import { type SQL, sql } from "drizzle-orm";
import { isPostgres, type SqlDb } from "../../../../storage/sql-db.ts";
import { byAmountDesc, byTokenKey } from "../../store/memory/usage-reports.ts";
import type { UsageTotals } from "../../store/ports.ts";
import {
  type CustomerUsage,
  type DayPlanUsage,
  splitDays,
  type TokenCount,
  type UsageReports,
  utcDay,
} from "../../store/usage-reports.ts";

/**
 * Runs statements as one transaction (SQLite: an IMMEDIATE transaction; D1: one `batch`; Postgres: BEGIN … COMMIT on
 * one connection). The fold is the only write here and must move the rollups and the watermark together, so it is the
 * one place an engine-specific hook is needed.
 */
export type RunAtomically = (statements: readonly string[]) => Promise<void>;

/**
 * Postgres only: the greatest ledger row id at or below which every row is committed (or never will be). SQLite and
 * D1 have one writer, so an id is visible only once every lower one is committed; on Postgres replicas append at
 * once and a sequence value can commit after a higher one, so the fold must not pass an id still in flight
 * (`proxy/src/adapters/postgres/usage-reports.ts`).
 */
export type CommittedCeiling = () => Promise<number>;

/**
 * Ledger rows folded per transaction: ~10–20 ms of work on this machine. On Node better-sqlite3 runs it on the event
 * loop holding the write lock, so a backlog is folded in these slices with the event loop let go between them.
 */
const CHUNK = 2_000;
const DAY = String(86_400_000);
const WATERMARK = "(select folded_through from usage_rollup_state where id = 1)";
/** Serialises folds across Postgres replicas (any key; only this proxy takes it). */
const FOLD_LOCK = 7_305_221_002;

/** What the two dialects write differently in the fold: the scalar min/max, and the UTC month of an epoch-ms. */
const DIALECTS = {
  sqlite: {
    least: "min",
    greatest: "max",
    monthMs: "cast(strftime('%s', occurred_at / 1000, 'unixepoch', 'start of month') as integer) * 1000",
  },
  postgres: {
    least: "least",
    greatest: "greatest",
    monthMs:
      "cast(extract(epoch from date_trunc('month', to_timestamp(occurred_at / 1000.0) at time zone 'UTC')) as bigint) * 1000",
  },
} as const;

/** `t.c = t.c + excluded.c, …` (qualified: Postgres finds a bare column of an upsert's SET ambiguous) */
const addExcluded = (table: string, columns: readonly string[]) =>
  columns.map((c) => `${c} = ${table}.${c} + excluded.${c}`).join(", ");
const SUMS = ["events", "tokens", "audio_ms", "input_chars", "amount_micros"];

/**
 * The fold, keyed by ledger row id (never reused): rows with id in (watermark, min(watermark + chunk, ceiling)].
 * Each statement reads the watermark itself, and all of them run in one transaction (on Postgres after a lock that
 * serialises folds), so a fold that fails or races another adds nothing twice: exact and idempotent. `ceiling` is an
 * SQL expression: SQLite's and D1's greatest id, or the committed ceiling Postgres computed before the fold.
 */
function foldStatements(chunk: number, dialect: keyof typeof DIALECTS, ceiling: string): string[] {
  const d = DIALECTS[dialect];
  const upTo = `${d.least}(${WATERMARK} + ${chunk}, ${ceiling})`;
  const NEW_ROWS = `id > ${WATERMARK} and id <= ${upTo}`;
  return [
    ...(dialect === "postgres" ? [`select pg_advisory_xact_lock(${FOLD_LOCK})`] : []),
    "insert into usage_rollup_state (id, folded_through) values (1, 0) on conflict (id) do nothing",
    `insert into usage_daily (day_ms, customer_id, plan_id, peak, currency, events, tokens, audio_ms, input_chars, amount_micros)
   select (occurred_at / ${DAY}) * ${DAY}, customer_id, plan_id, peak, currency,
          count(*), sum(tokens), sum(audio_ms), sum(input_chars), sum(amount_micros)
   from usage_events where ${NEW_ROWS}
   group by 1, 2, 3, 4, 5
   on conflict (day_ms, plan_id, customer_id, peak, currency) do update set ${addExcluded("usage_daily", SUMS)}`,
    `insert into usage_daily_plans (day_ms, plan_id, peak, currency, events, tokens, audio_ms, input_chars, amount_micros)
   select (occurred_at / ${DAY}) * ${DAY}, plan_id, peak, currency,
          count(*), sum(tokens), sum(audio_ms), sum(input_chars), sum(amount_micros)
   from usage_events where ${NEW_ROWS}
   group by 1, 2, 3, 4
   on conflict (day_ms, plan_id, peak, currency) do update set ${addExcluded("usage_daily_plans", SUMS)}`,
    `insert into usage_monthly_customers (month_ms, customer_id, peak, currency, events, tokens, amount_micros)
   select ${d.monthMs}, customer_id, peak, currency, count(*), sum(tokens), sum(amount_micros)
   from usage_events where ${NEW_ROWS}
   group by 1, 2, 3, 4
   on conflict (month_ms, customer_id, peak, currency) do update set
     ${addExcluded("usage_monthly_customers", ["events", "tokens", "amount_micros"])}`,
    `insert into usage_token_counts (day_ms, plan_id, peak, currency, tokens, events)
   select (occurred_at / ${DAY}) * ${DAY}, plan_id, peak, currency, tokens, count(*)
   from usage_events where ${NEW_ROWS}
   group by 1, 2, 3, 4, 5
   on conflict (plan_id, day_ms, peak, currency, tokens) do update set ${addExcluded("usage_token_counts", ["events"])}`,
    // greatest(…): the watermark never moves back, whatever the ledger holds.
    `update usage_rollup_state set folded_through = ${d.greatest}(folded_through, ${d.least}(folded_through + ${chunk}, ${ceiling})) where id = 1`,
  ];
}

/**
 * Rows of a range: the rollup's whole UTC days plus the ledger's rows in the partial days at its ends, those only up
 * to the watermark (one statement reads both, so both are the same snapshot: rows folded after it are in neither).
 * `rollup` and `ledger` select the same columns in the same order.
 */
function unionOfRange(
  fromMs: number,
  toMs: number,
  rollup: (whole: SQL, wholeFrom: number, wholeTo: number) => SQL,
  ledger: (edges: SQL) => SQL,
): SQL {
  const { wholeFrom, wholeTo, edges } = splitDays(fromMs, toMs);
  const parts: SQL[] = [];
  if (wholeFrom < wholeTo) parts.push(rollup(sql`day_ms >= ${wholeFrom} and day_ms < ${wholeTo}`, wholeFrom, wholeTo));
  if (edges.length > 0) {
    const inEdges = sql.join(
      edges.map(([a, b]) => sql`(occurred_at >= ${a} and occurred_at < ${b})`),
      sql` or `,
    );
    parts.push(ledger(sql`(${inEdges}) and id <= ${sql.raw(WATERMARK)}`));
  }
  return parts.length === 0 ? rollup(sql`1 = 0`, 0, 0) : sql.join(parts, sql` union all `);
}

const n = (v: unknown) => Number(v ?? 0);

/** A totals row's currency and sums (the columns `totals` and `customerTotals` select). */
const usageTotals = (r: Record<string, unknown>): UsageTotals => ({
  currency: String(r.currency),
  events: n(r.events),
  tokens: n(r.tokens),
  peakTokens: n(r.peak_tokens),
  audioMs: n(r.audio_ms),
  inputChars: n(r.input_chars),
  amountMicros: n(r.amount_micros),
});

/** The whole UTC calendar months inside [fromMs, toMs) (both UTC midnights): [monthFrom, monthTo), maybe empty. */
function splitMonths(fromMs: number, toMs: number): { monthFrom: number; monthTo: number } {
  const f = new Date(fromMs);
  const first = Date.UTC(f.getUTCFullYear(), f.getUTCMonth(), 1);
  const monthFrom = first === fromMs ? first : Date.UTC(f.getUTCFullYear(), f.getUTCMonth() + 1, 1);
  const t = new Date(toMs);
  const monthTo = Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), 1);
  return { monthFrom, monthTo };
}

/**
 * The usage reports over SQLite, D1 or Postgres: the rollup tables, folded on each read (and by whoever calls
 * `catchUp`). Postgres needs `committedCeiling` (see `CommittedCeiling`).
 */
export class SqlUsageReports implements UsageReports {
  readonly #chunk: number;
  readonly #fold: (() => Promise<string[]>) | null;
  /** SQLite and D1: the same statements every time (prepared once) */
  readonly #sqliteFold: string[];
  readonly #pg: boolean;

  constructor(
    private readonly db: SqlDb,
    private readonly runAtomically: RunAtomically,
    options: { chunk?: number; committedCeiling?: CommittedCeiling } = {},
  ) {
    this.#chunk = Math.max(1, Math.floor(options.chunk ?? CHUNK));
    this.#pg = isPostgres(db);
    this.#sqliteFold = foldStatements(this.#chunk, "sqlite", "(select coalesce(max(id), 0) from usage_events)");
    const ceiling = options.committedCeiling;
    if (this.#pg && !ceiling) throw new Error("SqlUsageReports on Postgres needs committedCeiling");
    this.#fold = ceiling
      ? async () => foldStatements(this.#chunk, "postgres", String(Math.floor(await ceiling())))
      : null;
  }

  async catchUp(): Promise<number> {
    const start = await this.#watermark();
    let at = start;
    for (;;) {
      await this.runAtomically(this.#fold ? await this.#fold() : this.#sqliteFold);
      const next = await this.#watermark();
      if (next - at < this.#chunk) return next - start;
      at = next;
      // let requests (and the ledger's commits) run between slices of a long catch-up
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }

  async totals(query: { fromMs: number; toMs: number; byPlan?: boolean }): Promise<UsageTotals[]> {
    await this.catchUp();
    const cols = "plan_id, currency, peak";
    const range = unionOfRange(
      query.fromMs,
      query.toMs,
      (w) =>
        sql`select ${sql.raw(cols)}, events, tokens, audio_ms, input_chars, amount_micros from usage_daily_plans where ${w}`,
      (e) =>
        sql`select ${sql.raw(cols)}, 1 as events, tokens, audio_ms, input_chars, amount_micros from usage_events where ${e}`,
    );
    const plan = sql.raw(query.byPlan ? "plan_id" : "null");
    const keys = sql.raw(query.byPlan ? "plan_id, currency" : "currency");
    const rows = await this.#all(sql`
      select ${plan} as plan_id, currency, sum(events) as events, sum(tokens) as tokens,
             sum(case when peak then tokens else 0 end) as peak_tokens, sum(audio_ms) as audio_ms,
             sum(input_chars) as input_chars, sum(amount_micros) as amount_micros
      from (${range}) as r group by ${keys} order by ${keys}`);
    return rows.map((r) => ({ ...(query.byPlan ? { planId: String(r.plan_id) } : {}), ...usageTotals(r) }));
  }

  async byDay(query: { fromMs: number; toMs: number }): Promise<DayPlanUsage[]> {
    await this.catchUp();
    const range = unionOfRange(
      query.fromMs,
      query.toMs,
      (w) =>
        sql`select day_ms, plan_id, currency, peak, events, tokens, amount_micros from usage_daily_plans where ${w}`,
      (e) =>
        sql`select (occurred_at / ${sql.raw(DAY)}) * ${sql.raw(DAY)} as day_ms, plan_id, currency, peak, 1 as events, tokens, amount_micros
            from usage_events where ${e}`,
    );
    const rows = await this.#all(sql`
      select day_ms, plan_id, currency, sum(events) as events, sum(tokens) as tokens,
             sum(case when peak then tokens else 0 end) as peak_tokens, sum(amount_micros) as amount_micros
      from (${range}) as r group by day_ms, plan_id, currency order by day_ms, plan_id, currency`);
    return rows.map((r) => ({
      day: utcDay(n(r.day_ms)),
      planId: String(r.plan_id),
      currency: String(r.currency),
      events: n(r.events),
      tokens: n(r.tokens),
      peakTokens: n(r.peak_tokens),
      amountMicros: n(r.amount_micros),
    }));
  }

  async customerTotals(query: {
    customerIds: readonly string[];
    fromMs: number;
    toMs: number;
  }): Promise<(UsageTotals & { customerId: string; planId: string })[]> {
    if (query.customerIds.length === 0) return [];
    await this.catchUp();
    const ids = sql.join(
      query.customerIds.map((id) => sql`${id}`),
      sql`, `,
    );
    const cols = "customer_id, plan_id, currency, peak";
    const range = unionOfRange(
      query.fromMs,
      query.toMs,
      (w) =>
        sql`select ${sql.raw(cols)}, events, tokens, audio_ms, input_chars, amount_micros
            from usage_daily where customer_id in (${ids}) and ${w}`,
      (e) =>
        sql`select ${sql.raw(cols)}, 1 as events, tokens, audio_ms, input_chars, amount_micros
            from usage_events where customer_id in (${ids}) and ${e}`,
    );
    const rows = await this.#all(sql`
      select customer_id, plan_id, currency, sum(events) as events, sum(tokens) as tokens,
             sum(case when peak then tokens else 0 end) as peak_tokens, sum(audio_ms) as audio_ms,
             sum(input_chars) as input_chars, sum(amount_micros) as amount_micros
      from (${range}) as r group by customer_id, plan_id, currency order by customer_id, plan_id, currency`);
    return rows.map((r) => ({ customerId: String(r.customer_id), planId: String(r.plan_id), ...usageTotals(r) }));
  }

  async topCustomers(query: { fromMs: number; toMs: number; limit: number }): Promise<CustomerUsage[]> {
    await this.catchUp();
    const cols = "customer_id, currency, peak";
    // Whole UTC months from the monthly rollup, the other whole days from the daily one, the edges from the ledger.
    const range = unionOfRange(
      query.fromMs,
      query.toMs,
      (w, wholeFrom, wholeTo) => {
        const { monthFrom, monthTo } = splitMonths(wholeFrom, wholeTo);
        const daily = (days: SQL) =>
          sql`select ${sql.raw(cols)}, events, tokens, amount_micros from usage_daily where ${days}`;
        if (monthFrom >= monthTo) return daily(w);
        return sql`select ${sql.raw(cols)}, events, tokens, amount_micros from usage_monthly_customers
                   where month_ms >= ${monthFrom} and month_ms < ${monthTo}
                   union all ${daily(sql`((day_ms >= ${wholeFrom} and day_ms < ${monthFrom}) or (day_ms >= ${monthTo} and day_ms < ${wholeTo}))`)}`;
      },
      (e) => sql`select ${sql.raw(cols)}, 1 as events, tokens, amount_micros from usage_events where ${e}`,
    );
    const rows = await this.#all(sql`
      select customer_id, currency, sum(events) as events, sum(tokens) as tokens,
             sum(case when peak then tokens else 0 end) as peak_tokens, sum(amount_micros) as amount_micros
      from (${range}) as r group by customer_id, currency
      order by amount_micros desc, customer_id, currency limit ${Math.max(0, Math.floor(query.limit))}`);
    return rows
      .map((r) => ({
        customerId: String(r.customer_id),
        currency: String(r.currency),
        events: n(r.events),
        tokens: n(r.tokens),
        peakTokens: n(r.peak_tokens),
        amountMicros: n(r.amount_micros),
      }))
      .sort(byAmountDesc);
  }

  async tokenCounts(query: { planId: string; fromMs: number; toMs: number }): Promise<TokenCount[]> {
    await this.catchUp();
    const range = unionOfRange(
      query.fromMs,
      query.toMs,
      (w) =>
        sql`select peak, currency, tokens, events from usage_token_counts where plan_id = ${query.planId} and ${w}`,
      (e) => sql`select peak, currency, tokens, 1 as events from usage_events where plan_id = ${query.planId} and ${e}`,
    );
    const rows = await this.#all(sql`
      select peak, currency, tokens, sum(events) as events from (${range}) as r group by peak, currency, tokens`);
    return rows
      .map((r) => ({
        peak: r.peak === true || n(r.peak) === 1,
        currency: String(r.currency),
        tokens: n(r.tokens),
        events: n(r.events),
      }))
      .sort(byTokenKey);
  }

  async #watermark(): Promise<number> {
    const rows = await this.#all(sql.raw(`select ${WATERMARK} as folded_through`));
    return n(rows[0]?.folded_through);
  }

  /** Rows of a raw query: `all` on SQLite and D1, `execute(…).rows` on Postgres. */
  async #all(query: SQL): Promise<Record<string, unknown>[]> {
    if (!this.#pg) return this.db.all<Record<string, unknown>>(query);
    const pg = this.db as unknown as { execute(q: SQL): Promise<{ rows: Record<string, unknown>[] }> };
    return (await pg.execute(query)).rows;
  }
}
