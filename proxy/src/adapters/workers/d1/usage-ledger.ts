import { getTableColumns, getTableName } from "drizzle-orm";
import { usageEvents } from "../../../../../migrations/schema/index.ts";
import type { D1Db } from "../../../../../storage/d1/db.ts";
import type { AppendOutcome, UsageEvent } from "../../../store/ports.ts";
import { assertUsageEvents, sourceOf } from "../../../store/validation.ts";
import { SqlUsageLedger } from "../../sql/usage-ledger.ts";

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

/**
 * The usage ledger on D1 (the read side is `SqlUsageLedger`'s). An append is one `batch` (D1 runs a batch as one transaction) of two statements whatever the
 * number of events: the request ids already present, then one INSERT … SELECT over `json_each` of all the events with
 * ON CONFLICT (request_id) DO NOTHING. D1 binds at most 100 parameters per statement, so a row-per-parameter insert
 * would take one statement per 6 events; one JSON parameter holds a whole queue batch.
 */
export class D1UsageLedger extends SqlUsageLedger {
  constructor(protected override readonly db: D1Db) {
    super(db);
  }

  async append(events: readonly UsageEvent[]): Promise<AppendOutcome[]> {
    assertUsageEvents(events);
    if (events.length === 0) return [];
    const ids = JSON.stringify(events.map((e) => e.requestId));
    const rows = JSON.stringify(
      events.map((e) => Object.fromEntries(EVENT_FIELDS.map((f) => [f, f === "source" ? sourceOf(e) : e[f]]))),
    );
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
}
