import type { IdempotencyKeyRow } from "../../../../migrations/schema/index.ts";
import { decideBegin } from "../idempotency-rules.ts";
import {
  type BeginIdempotent,
  DEFAULT_IDEMPOTENCY_STALE_AFTER_MS,
  type IdempotencyBegin,
  type IdempotencyStore,
  type StoredResponse,
} from "../ports.ts";
import { copy, type MemoryState } from "./state.ts";

const entryKey = (customerId: string, key: string) => `${customerId}\u0000${key}`;

export class InMemoryIdempotencyStore implements IdempotencyStore {
  constructor(private readonly state: MemoryState) {}

  async begin(input: BeginIdempotent): Promise<IdempotencyBegin> {
    const now = this.state.clock.now();
    const id = entryKey(input.customerId, input.key);
    const existing = this.state.idempotency.get(id);
    const decision = decideBegin(
      existing ?? null,
      input,
      now,
      input.staleAfterMs ?? DEFAULT_IDEMPOTENCY_STALE_AFTER_MS,
    );
    if (decision.write) this.state.idempotency.set(id, decision.write);
    return copy(decision.result);
  }

  async complete(customerId: string, key: string, requestId: string, response: StoredResponse): Promise<boolean> {
    const row = this.state.idempotency.get(entryKey(customerId, key));
    const now = this.state.clock.now();
    if (!row || row.requestId !== requestId || row.status !== "in_progress" || row.expiresAt <= now) return false;
    const stored = copy(response);
    const done: IdempotencyKeyRow = {
      ...row,
      status: "done",
      responseStatus: stored.status,
      responseBody: stored.body,
      contentType: stored.contentType,
      headers: stored.headers,
    };
    this.state.idempotency.set(entryKey(customerId, key), done);
    return true;
  }

  async fail(customerId: string, key: string, requestId: string): Promise<void> {
    const id = entryKey(customerId, key);
    const row = this.state.idempotency.get(id);
    if (row && row.requestId === requestId && row.status === "in_progress") this.state.idempotency.delete(id);
  }

  async purgeExpired(): Promise<number> {
    const now = this.state.clock.now();
    let purged = 0;
    for (const [id, row] of this.state.idempotency) {
      if (row.expiresAt <= now) {
        this.state.idempotency.delete(id);
        purged++;
      }
    }
    return purged;
  }
}
