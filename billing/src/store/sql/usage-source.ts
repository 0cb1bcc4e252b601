import { type SQL, sql } from "drizzle-orm";
import { isPostgres, type SqlDb } from "../../../../storage/sql-db.ts";
import type { BillableEvent } from "../../aggregate.ts";
import type { UsageSource } from "../ports.ts";

type Row = [number, string, string, string, number, number, number | boolean, number, number, string];

const COLUMNS = sql.raw(
  "id, customer_id, plan_id, price_version_id, occurred_at, tokens, peak, multiplier_bp, amount_micros, currency",
);

// Number(): Postgres sends bigints as text (drizzle's driver sets its own type parsers per query).
const toEvent = (r: Row): BillableEvent => ({
  customerId: r[1],
  planId: r[2],
  priceVersionId: r[3],
  occurredAt: Number(r[4]),
  tokens: Number(r[5]),
  peak: r[6] === 1 || r[6] === true, // SQLite: 0/1; Postgres: boolean
  multiplierBp: Number(r[7]),
  amountMicros: Number(r[8]),
  currency: r[9],
});

/**
 * Billing's read side of `usage_events`, the same queries on every SQLite engine. Rows come as arrays (`values`), not
 * an object per row, which keeps a million-event scan cheap.
 * - `scan`: keyset pages over (customer_id, occurred_at, id), one seek on `usage_events_customer_occurred_idx` each.
 * - `scanPeriod`: the period as a rowid range. Ids grow with insertion, so the period's rows lie between the smallest
 *   and the largest id of a row in it (found on the occurred_at index); the table is then read in rowid order,
 *   sequentially, instead of one seek per customer.
 */
export class SqlUsageSource implements UsageSource {
  constructor(private readonly db: SqlDb) {}

  async #rows(query: SQL): Promise<Row[]> {
    return this.#values<Row>(query);
  }

  /**
   * Rows as arrays. The statements here are plain SQL both engines read the same way; only the call differs (SQLite's
   * drizzle has `values`, Postgres's `execute`, whose rows keep the select list's order).
   */
  async #values<T>(query: SQL): Promise<T[]> {
    if (isPostgres(this.db)) {
      const pg = this.db as unknown as { execute(q: SQL): Promise<{ rows: Record<string, unknown>[] }> };
      return (await pg.execute(query)).rows.map((r) => Object.values(r)) as T[];
    }
    return (await this.db.values(query)) as T[];
  }

  async *scan(query: { customerId: string; fromMs: number; toMs: number; batchSize?: number }) {
    const limit = Math.max(1, Math.trunc(query.batchSize ?? 5_000));
    const range = sql`customer_id = ${query.customerId} and occurred_at >= ${query.fromMs} and occurred_at < ${query.toMs}`;
    let rows = await this.#rows(
      sql`select ${COLUMNS} from usage_events where ${range} order by occurred_at, id limit ${limit}`,
    );
    while (rows.length > 0) {
      const last = rows[rows.length - 1] as Row;
      yield rows.map(toEvent);
      if (rows.length < limit) return;
      rows = await this.#rows(
        sql`select ${COLUMNS} from usage_events where ${range} and (occurred_at, id) > (${last[4]}, ${last[0]})
            order by occurred_at, id limit ${limit}`,
      );
    }
  }

  async *scanPeriod(query: { fromMs: number; toMs: number; batchSize?: number }) {
    const limit = Math.max(1, Math.trunc(query.batchSize ?? 10_000));
    const [range] = await this.#values<[number | null, number | null]>(
      sql`select min(id), max(id) from usage_events where occurred_at >= ${query.fromMs} and occurred_at < ${query.toMs}`,
    );
    // Number(): Postgres sends bigints as text.
    const [lo, hi] = (range ?? [null, null]).map((v) => (v === null ? null : Number(v)));
    if (lo == null || hi == null) return;
    for (let after = lo - 1; ; ) {
      // `+occurred_at`: filter on the rows read in rowid order, without switching to the occurred_at index.
      const rows = await this.#rows(
        sql`select ${COLUMNS} from usage_events where id > ${after} and id <= ${hi}
            and +occurred_at >= ${query.fromMs} and +occurred_at < ${query.toMs} order by id limit ${limit}`,
      );
      if (rows.length === 0) return;
      yield rows.map(toEvent);
      if (rows.length < limit) return;
      after = Number((rows[rows.length - 1] as Row)[0]);
    }
  }

  async customersWithUsage(query: { fromMs: number; toMs: number }): Promise<string[]> {
    const rows = await this.#values<[string]>(
      sql`select distinct customer_id from usage_events where occurred_at >= ${query.fromMs} and occurred_at < ${query.toMs}
          order by customer_id`,
    );
    return rows.map((r) => r[0]);
  }
}
