import type { BillableEvent } from "../../../../../billing/src/aggregate.ts";
import type { UsageSource } from "../../../../../billing/src/store/ports.ts";
import type { SqliteDb } from "../open.ts";

type Row = [number, string, string, string, number, number, number, number, number, string];

/**
 * Billing's read side of `usage_events`: keyset pages over (customer_id, occurred_at, id), one seek on
 * `usage_events_customer_occurred_idx` per page. Raw rows (arrays) instead of objects per column keep a
 * million-event scan cheap.
 */
export class SqliteUsageSource implements UsageSource {
  readonly #first;
  readonly #next;
  readonly #customers;

  constructor(db: SqliteDb) {
    const columns =
      "id, customer_id, plan_id, price_version_id, occurred_at, tokens, peak, multiplier_bp, amount_micros, currency";
    const range = "customer_id = @customerId and occurred_at >= @fromMs and occurred_at < @toMs";
    this.#first = db.$client
      .prepare(`select ${columns} from usage_events where ${range} order by occurred_at, id limit @limit`)
      .raw(true);
    this.#next = db.$client
      .prepare(
        `select ${columns} from usage_events where ${range} and (occurred_at, id) > (@afterAt, @afterId)
         order by occurred_at, id limit @limit`,
      )
      .raw(true);
    this.#customers = db.$client
      .prepare(
        "select distinct customer_id from usage_events where occurred_at >= ? and occurred_at < ? order by customer_id",
      )
      .pluck(true);
  }

  async *scan(query: { customerId: string; fromMs: number; toMs: number; batchSize?: number }) {
    const limit = Math.max(1, Math.trunc(query.batchSize ?? 5_000));
    const base = { customerId: query.customerId, fromMs: query.fromMs, toMs: query.toMs, limit };
    let rows = this.#first.all(base) as Row[];
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
      rows = this.#next.all({ ...base, afterAt: last[4], afterId: last[0] }) as Row[];
    }
  }

  async customersWithUsage(query: { fromMs: number; toMs: number }): Promise<string[]> {
    return this.#customers.all(query.fromMs, query.toMs) as string[];
  }
}
