import type { D1Db } from "../../../../storage/d1/db.ts";
import type { BillableEvent } from "../../aggregate.ts";
import type { UsageSource } from "../ports.ts";

type Row = [number, string, string, string, number, number, number, number, number, string];

const COLUMNS =
  "id, customer_id, plan_id, price_version_id, occurred_at, tokens, peak, multiplier_bp, amount_micros, currency";
const RANGE = "customer_id = ?1 and occurred_at >= ?2 and occurred_at < ?3";
const FIRST = `select ${COLUMNS} from usage_events where ${RANGE} order by occurred_at, id limit ?4`;
const NEXT = `select ${COLUMNS} from usage_events where ${RANGE} and (occurred_at, id) > (?5, ?6)
  order by occurred_at, id limit ?4`;
const CUSTOMERS =
  "select distinct customer_id from usage_events where occurred_at >= ?1 and occurred_at < ?2 order by customer_id";

/**
 * Billing's read side of `usage_events` on D1: keyset pages over (customer_id, occurred_at, id), one seek on
 * `usage_events_customer_occurred_idx` per page, rows as arrays (D1's `raw()`), the same queries as on SQLite.
 */
export class D1UsageSource implements UsageSource {
  constructor(private readonly db: D1Db) {}

  async *scan(query: { customerId: string; fromMs: number; toMs: number; batchSize?: number }) {
    const d1 = this.db.$client;
    const limit = Math.max(1, Math.trunc(query.batchSize ?? 5_000));
    const range = [query.customerId, query.fromMs, query.toMs, limit] as const;
    let rows = await d1
      .prepare(FIRST)
      .bind(...range)
      .raw<Row>();
    while (rows.length > 0) {
      const batch: BillableEvent[] = rows.map((r) => ({
        customerId: r[1],
        planId: r[2],
        priceVersionId: r[3],
        occurredAt: r[4],
        tokens: r[5],
        peak: r[6] === 1,
        multiplierBp: r[7],
        amountMicros: r[8],
        currency: r[9],
      }));
      const last = rows[rows.length - 1] as Row;
      yield batch;
      if (rows.length < limit) return;
      rows = await d1
        .prepare(NEXT)
        .bind(...range, last[4], last[0])
        .raw<Row>();
    }
  }

  async customersWithUsage(query: { fromMs: number; toMs: number }): Promise<string[]> {
    const rows = await this.db.$client.prepare(CUSTOMERS).bind(query.fromMs, query.toMs).raw<[string]>();
    return rows.map((r) => r[0]);
  }
}
