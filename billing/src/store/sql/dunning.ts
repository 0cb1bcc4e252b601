import { and, asc, eq, isNull, lte, sql } from "drizzle-orm";
import type { Clock } from "../../../../domain/records.ts";
import { billingUnpaidInvoices } from "../../../../migrations/schema/index.ts";
import type { SqlDb } from "../../../../storage/sql-db.ts";
import type { DunningStore, UnpaidInvoice } from "../ports.ts";

const byId = (id: string) => eq(billingUnpaidInvoices.stripeInvoiceId, id);

/** Unpaid invoices: each write is one upsert or conditional update, so unordered webhooks stay consistent. */
export class SqlDunningStore implements DunningStore {
  constructor(
    private readonly db: SqlDb,
    private readonly clock: Clock,
  ) {}

  async recordFailure(stripeInvoiceId: string, customerId: string): Promise<UnpaidInvoice> {
    const now = this.clock.now();
    const stored = await this.db
      .insert(billingUnpaidInvoices)
      .values({ stripeInvoiceId, customerId, firstFailedAt: now, lastFailedAt: now, failures: 1 })
      .onConflictDoUpdate({
        target: billingUnpaidInvoices.stripeInvoiceId,
        // A failure reported after the invoice was paid (events arrive unordered) changes nothing.
        set: {
          failures: sql`case when ${billingUnpaidInvoices.paidAt} is null then ${billingUnpaidInvoices.failures} + 1 else ${billingUnpaidInvoices.failures} end`,
          lastFailedAt: sql`case when ${billingUnpaidInvoices.paidAt} is null then ${now} else ${billingUnpaidInvoices.lastFailedAt} end`,
        },
      })
      .returning()
      .get();
    if (!stored) throw new Error("the database returned no row for an upsert");
    return stored;
  }

  async recordPaid(stripeInvoiceId: string): Promise<UnpaidInvoice | null> {
    const updated = await this.db
      .update(billingUnpaidInvoices)
      .set({ paidAt: sql`coalesce(${billingUnpaidInvoices.paidAt}, ${this.clock.now()})` })
      .where(byId(stripeInvoiceId))
      .returning()
      .get();
    return updated ?? null;
  }

  async unpaidFor(customerId: string): Promise<UnpaidInvoice[]> {
    return this.db
      .select()
      .from(billingUnpaidInvoices)
      .where(and(eq(billingUnpaidInvoices.customerId, customerId), isNull(billingUnpaidInvoices.paidAt)))
      .orderBy(asc(billingUnpaidInvoices.firstFailedAt))
      .all();
  }

  async overdue(failedAtOrBefore: number): Promise<UnpaidInvoice[]> {
    return this.db
      .select()
      .from(billingUnpaidInvoices)
      .where(
        and(
          isNull(billingUnpaidInvoices.paidAt),
          isNull(billingUnpaidInvoices.suspendedAt),
          lte(billingUnpaidInvoices.firstFailedAt, failedAtOrBefore),
        ),
      )
      .orderBy(asc(billingUnpaidInvoices.firstFailedAt))
      .all();
  }

  async markSuspended(stripeInvoiceId: string): Promise<void> {
    await this.db
      .update(billingUnpaidInvoices)
      .set({ suspendedAt: this.clock.now() })
      .where(and(byId(stripeInvoiceId), isNull(billingUnpaidInvoices.suspendedAt)))
      .run();
  }
}
