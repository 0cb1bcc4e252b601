import { type SQL, sql } from "drizzle-orm";
import type { SqlDb } from "../../../../storage/sql-db.ts";
import type { BillableEvent } from "../../aggregate.ts";
import type { UsageSource } from "../ports.ts";

type Row = [number, string, string, string, number, number, number, number, number, string];

const COLUMNS = sql.raw(
  "id, customer_id, plan_id, price_version_id, occurred_at, tokens, peak, multiplier_bp, amount_micros, currency",
);

const toEvent = (r: Row): BillableEvent => ({
  customerId: r[1],
  planId: r[2],
  priceVersionId: r[3],
  occurredAt: r[4],
  tokens: r[5],
  peak: r[6] === 1,
  multiplierBp: r[7],
  amountMicros: r[8],
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
    return (await this.db.values(query)) as Row[];
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
    const [range] = (await this.db.values(
      sql`select min(id), max(id) from usage_events where occurred_at >= ${query.fromMs} and occurred_at < ${query.toMs}`,
    )) as [number | null, number | null][];
    const [lo, hi] = range ?? [null, null];
    if (lo === null || hi === null) return;
    for (let after = lo - 1; ; ) {
      // `+occurred_at`: filter on the rows read in rowid order, without switching to the occurred_at index.
      const rows = await this.#rows(
        sql`select ${COLUMNS} from usage_events where id > ${after} and id <= ${hi}
            and +occurred_at >= ${query.fromMs} and +occurred_at < ${query.toMs} order by id limit ${limit}`,
      );
      if (rows.length === 0) return;
      yield rows.map(toEvent);
      if (rows.length < limit) return;
      after = (rows[rows.length - 1] as Row)[0];
    }
  }

  async customersWithUsage(query: { fromMs: number; toMs: number }): Promise<string[]> {
    const rows = (await this.db.values(
      sql`select distinct customer_id from usage_events where occurred_at >= ${query.fromMs} and occurred_at < ${query.toMs}
          order by customer_id`,
    )) as [string][];
    return rows.map((r) => r[0]);
  }
}
