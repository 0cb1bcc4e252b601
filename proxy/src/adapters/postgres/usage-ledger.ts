import { asSqlDb, type PgDb } from "../../../../storage/pg/open.ts";
import { type SqlDb, tablesOf } from "../../../../storage/sql-db.ts";
import type { AppendOutcome, UsageEvent } from "../../store/ports.ts";
import { assertUsageEvents, sourceOf } from "../../store/validation.ts";
import { SqlUsageLedger } from "../sql/usage-ledger.ts";

/** Rows per INSERT: 15 parameters each, under Postgres's 65,535 bind parameters per statement. */
const CHUNK = 2_000;

/**
 * The usage ledger on Postgres: the append hot path here, the read side `SqlUsageLedger`'s. A batch (a group commit's
 * worth, see `GroupCommitLedger`) is one multi-row `INSERT … ON CONFLICT (request_id) DO NOTHING RETURNING` in one
 * transaction: one commit, flushed to the WAL before it returns (`synchronous_commit` on, Postgres's default), so every
 * row of the batch is durable before any of its responses is released. Conflicts on request_id only: a CHECK or
 * foreign-key failure fails the whole batch loudly.
 */
export class PostgresUsageLedger extends SqlUsageLedger {
  constructor(private readonly pg: PgDb) {
    super(asSqlDb(pg));
  }

  async append(events: readonly UsageEvent[]): Promise<AppendOutcome[]> {
    assertUsageEvents(events);
    if (events.length === 0) return [];
    const { usageEvents } = tablesOf(this.db);
    const insertChunk = async (db: SqlDb, chunk: readonly UsageEvent[]) =>
      db
        .insert(usageEvents)
        .values(chunk.map(toRow))
        .onConflictDoNothing({ target: usageEvents.requestId })
        .returning({ requestId: usageEvents.requestId });
    const inserted =
      events.length <= CHUNK
        ? await insertChunk(this.db, events)
        : await this.pg.transaction(async (tx) => {
            const all: { requestId: string }[] = [];
            for (let i = 0; i < events.length; i += CHUNK)
              all.push(...(await insertChunk(asSqlDb(tx as unknown as PgDb), events.slice(i, i + CHUNK))));
            return all;
          });
    // RETURNING names the rows written; a request id twice in one batch is written once, by its first event.
    const written = new Set(inserted.map((r) => r.requestId));
    return events.map((event) => {
      const first = written.delete(event.requestId);
      return { inserted: first };
    });
  }
}

function toRow(e: UsageEvent) {
  return {
    requestId: e.requestId,
    customerId: e.customerId,
    apiKeyId: e.apiKeyId,
    planId: e.planId,
    priceVersionId: e.priceVersionId,
    occurredAt: e.occurredAt,
    audioMs: e.audioMs,
    tokens: e.tokens,
    inputChars: e.inputChars,
    peak: e.peak,
    multiplierBp: e.multiplierBp,
    amountMicros: e.amountMicros,
    currency: e.currency,
    nodeId: e.nodeId,
    priority: e.priority,
    source: sourceOf(e),
  };
}
