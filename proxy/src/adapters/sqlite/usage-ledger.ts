import { is, Param, Placeholder, sql } from "drizzle-orm";
import { usageEvents } from "../../../../migrations/schema/index.ts";
import type { SqliteDb } from "../../../../storage/sqlite/open.ts";
import type { AppendOutcome, UsageEvent } from "../../store/ports.ts";
import { assertUsageEvents, sourceOf } from "../../store/validation.ts";
import { SqlUsageLedger } from "../sql/usage-ledger.ts";

/** The usage ledger on SQLite: the append hot path here, the read side `SqlUsageLedger`'s. */
export class SqliteUsageLedger extends SqlUsageLedger {
  readonly #appendAll: { immediate(events: readonly UsageEvent[]): AppendOutcome[] };

  constructor(protected override readonly db: SqliteDb) {
    super(db);
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
        source: p("source"),
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
    const values = (event: UsageEvent) =>
      fields.map(({ name, column }) => column.mapToDriverValue(name === "source" ? sourceOf(event) : event[name]));
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
}
