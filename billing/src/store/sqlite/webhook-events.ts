import { and, eq } from "drizzle-orm";
import type { Clock } from "../../../../domain/records.ts";
import { billingWebhookEvents } from "../../../../migrations/schema/index.ts";
import type { SqliteDb } from "../../../../storage/sqlite/open.ts";
import type { WebhookClaim, WebhookEventStore } from "../ports.ts";

export class SqliteWebhookEventStore implements WebhookEventStore {
  constructor(
    private readonly db: SqliteDb,
    private readonly clock: Clock,
  ) {}

  async claim(eventId: string, type: string, staleAfterMs: number): Promise<WebhookClaim> {
    const now = this.clock.now();
    // IMMEDIATE: two concurrent deliveries (even from two processes) cannot both see "absent".
    return this.db.transaction(
      (tx): WebhookClaim => {
        const row = tx.select().from(billingWebhookEvents).where(eq(billingWebhookEvents.eventId, eventId)).get();
        if (!row) {
          tx.insert(billingWebhookEvents).values({ eventId, type, state: "processing", receivedAt: now }).run();
          return { state: "new", attempt: 1 };
        }
        if (row.state === "done") return { state: "done", outcome: row.outcome };
        if (now - row.receivedAt < staleAfterMs) return { state: "in_progress" };
        const attempt = row.attempts + 1;
        tx.update(billingWebhookEvents)
          .set({ attempts: attempt, receivedAt: now })
          .where(eq(billingWebhookEvents.eventId, eventId))
          .run();
        return { state: "new", attempt };
      },
      { behavior: "immediate" },
    );
  }

  async complete(eventId: string, outcome: string): Promise<void> {
    this.db
      .update(billingWebhookEvents)
      .set({ state: "done", outcome, processedAt: this.clock.now() })
      .where(eq(billingWebhookEvents.eventId, eventId))
      .run();
  }

  async release(eventId: string): Promise<void> {
    this.db
      .delete(billingWebhookEvents)
      .where(and(eq(billingWebhookEvents.eventId, eventId), eq(billingWebhookEvents.state, "processing")))
      .run();
  }

  async get(eventId: string) {
    return (
      this.db
        .select({
          eventId: billingWebhookEvents.eventId,
          type: billingWebhookEvents.type,
          state: billingWebhookEvents.state,
          outcome: billingWebhookEvents.outcome,
        })
        .from(billingWebhookEvents)
        .where(eq(billingWebhookEvents.eventId, eventId))
        .get() ?? null
    );
  }
}
