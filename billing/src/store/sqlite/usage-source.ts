import type { SqliteDb } from "../../../../storage/sqlite/open.ts";
import type { BillableEvent } from "../../aggregate.ts";
import type { UsageSource } from "../ports.ts";

type Row = [number, string, string, string, number, number, number, number, number, string];

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
 * Billing's read side of `usage_events`: keyset pages over (customer_id, occurred_at, id), one seek on
 * `usage_events_customer_occurred_idx` per page. Raw rows (arrays) instead of objects per column keep a
 * million-event scan cheap.
 */
export class SqliteUsageSource implements UsageSource {
  readonly #first;
  readonly #next;
  readonly #customers;
  readonly #idRange;
  readonly #byId;

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
    // The period as a rowid range: ids grow with insertion, so the period's rows lie between the smallest and the
    // largest id of a row in it (found on the occurred_at index); the table is then read in rowid order, sequentially.
    this.#idRange = db.$client.prepare(
      "select min(id) as lo, max(id) as hi from usage_events where occurred_at >= ? and occurred_at < ?",
    );
    this.#byId = db.$client
      .prepare(
        `select ${columns} from usage_events where id > @after and id <= @hi and +occurred_at >= @fromMs and +occurred_at < @toMs
         order by id limit @limit`,
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
      const batch = rows.map(toEvent);
      const last = rows[rows.length - 1] as Row;
      yield batch;
      if (rows.length < limit) return;
      rows = this.#next.all({ ...base, afterAt: last[4], afterId: last[0] }) as Row[];
    }
  }

  async *scanPeriod(query: { fromMs: number; toMs: number; batchSize?: number }) {
    const limit = Math.max(1, Math.trunc(query.batchSize ?? 10_000));
    const range = this.#idRange.get(query.fromMs, query.toMs) as { lo: number | null; hi: number | null };
    if (range.lo === null || range.hi === null) return;
    let after = range.lo - 1;
    for (;;) {
      const rows = this.#byId.all({ after, hi: range.hi, fromMs: query.fromMs, toMs: query.toMs, limit }) as Row[];
      if (rows.length === 0) return;
      yield rows.map(toEvent);
      if (rows.length < limit) return;
      after = (rows[rows.length - 1] as Row)[0];
    }
  }

  async customersWithUsage(query: { fromMs: number; toMs: number }): Promise<string[]> {
    return this.#customers.all(query.fromMs, query.toMs) as string[];
  }
}
