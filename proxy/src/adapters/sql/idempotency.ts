import { and, eq, gt, lte } from "drizzle-orm";
import type { IdempotencyKeyRow, Schema } from "../../../../migrations/schema/index.ts";
import { changes, first, type SqlDb, tablesOf } from "../../../../storage/sql-db.ts";
import { decideBegin } from "../../store/idempotency-rules.ts";
import {
  type BeginIdempotent,
  type Clock,
  DEFAULT_IDEMPOTENCY_STALE_AFTER_MS,
  type IdempotencyBegin,
  type IdempotencyStore,
  type StoredResponse,
} from "../../store/ports.ts";

const entry = (keys: Schema["idempotencyKeys"], customerId: string, key: string) =>
  and(eq(keys.customerId, customerId), eq(keys.key, key));

/** Retries of one key racing each other: each round one compare-and-set wins and the others re-read. */
const MAX_BEGIN_RACES = 8;

/**
 * Idempotency keys, on every SQL engine. `begin` is read → decide (the shared `decideBegin`) → compare-and-set: an absent entry is
 * inserted with ON CONFLICT DO NOTHING, an existing one is replaced only if it is still exactly the row that was read.
 * A write that changed nothing lost a race and the decision is taken again, so two retries never both start.
 */
export class SqlIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly db: SqlDb,
    private readonly clock: Clock,
  ) {}

  async begin(input: BeginIdempotent): Promise<IdempotencyBegin> {
    const { idempotencyKeys } = tablesOf(this.db);
    const staleAfterMs = input.staleAfterMs ?? DEFAULT_IDEMPOTENCY_STALE_AFTER_MS;
    for (let attempt = 0; attempt < MAX_BEGIN_RACES; attempt++) {
      const now = this.clock.now();
      const existing =
        (await this.db
          .select()
          .from(idempotencyKeys)
          .where(entry(idempotencyKeys, input.customerId, input.key))
          .then(first)) ?? null;
      const { result, write } = decideBegin(existing, input, now, staleAfterMs);
      if (!write) return result;
      if (await this.#compareAndSet(existing, write)) return result;
    }
    throw new Error(`idempotency key ${input.key}: lost ${MAX_BEGIN_RACES} races in a row`);
  }

  async #compareAndSet(expected: IdempotencyKeyRow | null, write: IdempotencyKeyRow): Promise<boolean> {
    const { idempotencyKeys } = tablesOf(this.db);
    if (expected === null) {
      return changes(await this.db.insert(idempotencyKeys).values(write).onConflictDoNothing()) === 1;
    }
    const { customerId, key, ...rest } = write;
    const unchanged = and(
      entry(idempotencyKeys, customerId, key),
      eq(idempotencyKeys.requestId, expected.requestId),
      eq(idempotencyKeys.status, expected.status),
      eq(idempotencyKeys.createdAt, expected.createdAt),
      eq(idempotencyKeys.expiresAt, expected.expiresAt),
    );
    return changes(await this.db.update(idempotencyKeys).set(rest).where(unchanged)) === 1;
  }

  async complete(customerId: string, key: string, requestId: string, response: StoredResponse): Promise<boolean> {
    const { idempotencyKeys } = tablesOf(this.db);
    const result = await this.db
      .update(idempotencyKeys)
      .set({
        status: "done",
        responseStatus: response.status,
        responseBody: response.body,
        contentType: response.contentType,
        headers: response.headers,
      })
      .where(
        and(
          entry(idempotencyKeys, customerId, key),
          eq(idempotencyKeys.requestId, requestId),
          eq(idempotencyKeys.status, "in_progress"),
          gt(idempotencyKeys.expiresAt, this.clock.now()),
        ),
      );
    return changes(result) === 1;
  }

  async fail(customerId: string, key: string, requestId: string): Promise<void> {
    const { idempotencyKeys } = tablesOf(this.db);
    await this.db
      .delete(idempotencyKeys)
      .where(
        and(
          entry(idempotencyKeys, customerId, key),
          eq(idempotencyKeys.requestId, requestId),
          eq(idempotencyKeys.status, "in_progress"),
        ),
      );
  }

  async purgeExpired(): Promise<number> {
    const { idempotencyKeys } = tablesOf(this.db);
    return changes(await this.db.delete(idempotencyKeys).where(lte(idempotencyKeys.expiresAt, this.clock.now())));
  }
}
