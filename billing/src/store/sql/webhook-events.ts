import { and, eq } from "drizzle-orm";
import type { Clock } from "../../../../domain/records.ts";
import { first, type SqlDb, tablesOf } from "../../../../storage/sql-db.ts";
import type { WebhookClaim, WebhookEventStore } from "../ports.ts";

/** Two deliveries of one event racing for it: each round one compare-and-set wins and the other re-reads. */
const MAX_CLAIM_RACES = 8;

/**
 * Stripe webhook events, on every SQL engine. `claim` without a transaction: insert-or-ignore decides who gets a new event; an
 * abandoned attempt is taken over by an update guarded on the attempt that was read, so only one taker wins.
 */
export class SqlWebhookEventStore implements WebhookEventStore {
  constructor(
    private readonly db: SqlDb,
    private readonly clock: Clock,
  ) {}

  async claim(eventId: string, type: string, staleAfterMs: number): Promise<WebhookClaim> {
    const { billingWebhookEvents } = tablesOf(this.db);
    for (let attempt = 0; attempt < MAX_CLAIM_RACES; attempt++) {
      const now = this.clock.now();
      const inserted = await this.db
        .insert(billingWebhookEvents)
        .values({ eventId, type, state: "processing", receivedAt: now })
        .onConflictDoNothing({ target: billingWebhookEvents.eventId })
        .returning({ eventId: billingWebhookEvents.eventId });
      if (inserted.length === 1) return { state: "new", attempt: 1 };
      const row = await this.db
        .select()
        .from(billingWebhookEvents)
        .where(eq(billingWebhookEvents.eventId, eventId))
        .then(first);
      if (!row) continue; // released between our insert and our read: try again
      if (row.state === "done") return { state: "done", outcome: row.outcome };
      if (now - row.receivedAt < staleAfterMs) return { state: "in_progress" };
      const next = row.attempts + 1;
      const takenOver = await this.db
        .update(billingWebhookEvents)
        .set({ attempts: next, receivedAt: now })
        .where(
          and(
            eq(billingWebhookEvents.eventId, eventId),
            eq(billingWebhookEvents.state, "processing"),
            eq(billingWebhookEvents.attempts, row.attempts),
            eq(billingWebhookEvents.receivedAt, row.receivedAt),
          ),
        )
        .returning({ eventId: billingWebhookEvents.eventId });
      if (takenOver.length === 1) return { state: "new", attempt: next };
    }
    throw new Error(`webhook event ${eventId}: lost ${MAX_CLAIM_RACES} races in a row`);
  }

  async complete(eventId: string, outcome: string): Promise<void> {
    const { billingWebhookEvents } = tablesOf(this.db);
    await this.db
      .update(billingWebhookEvents)
      .set({ state: "done", outcome, processedAt: this.clock.now() })
      .where(eq(billingWebhookEvents.eventId, eventId));
  }

  async release(eventId: string): Promise<void> {
    const { billingWebhookEvents } = tablesOf(this.db);
    await this.db
      .delete(billingWebhookEvents)
      .where(and(eq(billingWebhookEvents.eventId, eventId), eq(billingWebhookEvents.state, "processing")));
  }

  async get(eventId: string) {
    const { billingWebhookEvents } = tablesOf(this.db);
    const found = await this.db
      .select({
        eventId: billingWebhookEvents.eventId,
        type: billingWebhookEvents.type,
        state: billingWebhookEvents.state,
        outcome: billingWebhookEvents.outcome,
      })
      .from(billingWebhookEvents)
      .where(eq(billingWebhookEvents.eventId, eventId))
      .then(first);
    return found ?? null;
  }
}
