import { and, eq, gt, lte } from "drizzle-orm";
import { idempotencyKeys } from "../../../../migrations/schema/index.ts";
import type { SqliteDb } from "../../../../storage/sqlite/open.ts";
import { decideBegin } from "../../store/idempotency-rules.ts";
import {
  type BeginIdempotent,
  type Clock,
  DEFAULT_IDEMPOTENCY_STALE_AFTER_MS,
  type IdempotencyBegin,
  type IdempotencyStore,
  type StoredResponse,
} from "../../store/ports.ts";

const entry = (customerId: string, key: string) =>
  and(eq(idempotencyKeys.customerId, customerId), eq(idempotencyKeys.key, key));

export class SqliteIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly db: SqliteDb,
    private readonly clock: Clock,
  ) {}

  async begin(input: BeginIdempotent): Promise<IdempotencyBegin> {
    const now = this.clock.now();
    const staleAfterMs = input.staleAfterMs ?? DEFAULT_IDEMPOTENCY_STALE_AFTER_MS;
    // IMMEDIATE takes the write lock before reading: two concurrent retries (even from two processes) cannot both
    // see "absent" and both start.
    return this.db.transaction(
      (tx) => {
        const existing = tx.select().from(idempotencyKeys).where(entry(input.customerId, input.key)).get();
        const { result, write } = decideBegin(existing ?? null, input, now, staleAfterMs);
        if (write) {
          const { customerId, key, ...rest } = write;
          tx.insert(idempotencyKeys)
            .values(write)
            .onConflictDoUpdate({ target: [idempotencyKeys.customerId, idempotencyKeys.key], set: rest })
            .run();
        }
        return result;
      },
      { behavior: "immediate" },
    );
  }

  async complete(customerId: string, key: string, requestId: string, response: StoredResponse): Promise<boolean> {
    const { changes } = this.db
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
          entry(customerId, key),
          eq(idempotencyKeys.requestId, requestId),
          eq(idempotencyKeys.status, "in_progress"),
          gt(idempotencyKeys.expiresAt, this.clock.now()),
        ),
      )
      .run();
    return changes === 1;
  }

  async fail(customerId: string, key: string, requestId: string): Promise<void> {
    this.db
      .delete(idempotencyKeys)
      .where(
        and(
          entry(customerId, key),
          eq(idempotencyKeys.requestId, requestId),
          eq(idempotencyKeys.status, "in_progress"),
        ),
      )
      .run();
  }

  async purgeExpired(): Promise<number> {
    return this.db.delete(idempotencyKeys).where(lte(idempotencyKeys.expiresAt, this.clock.now())).run().changes;
  }
}
