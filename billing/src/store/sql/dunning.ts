import { and, asc, eq, isNull, lte, sql } from "drizzle-orm";
import type { Clock } from "../../../../domain/records.ts";
import type { Schema } from "../../../../migrations/schema/index.ts";
import { first, type SqlDb, tablesOf } from "../../../../storage/sql-db.ts";
import type { DunningStore, UnpaidInvoice } from "../ports.ts";

const byId = (unpaid: Schema["billingUnpaidInvoices"], id: string) => eq(unpaid.stripeInvoiceId, id);

/** Unpaid invoices: each write is one upsert or conditional update, so unordered webhooks stay consistent. */
export class SqlDunningStore implements DunningStore {
  constructor(
    private readonly db: SqlDb,
    private readonly clock: Clock,
  ) {}

  async recordFailure(stripeInvoiceId: string, customerId: string): Promise<UnpaidInvoice> {
    const { billingUnpaidInvoices } = tablesOf(this.db);
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
      .then(first);
    if (!stored) throw new Error("the database returned no row for an upsert");
    return stored;
  }

  async recordPaid(stripeInvoiceId: string): Promise<UnpaidInvoice | null> {
    const { billingUnpaidInvoices } = tablesOf(this.db);
    const updated = await this.db
      .update(billingUnpaidInvoices)
      .set({ paidAt: sql`coalesce(${billingUnpaidInvoices.paidAt}, ${this.clock.now()})` })
      .where(byId(billingUnpaidInvoices, stripeInvoiceId))
      .returning()
      .then(first);
    return updated ?? null;
  }

  async unpaidFor(customerId: string): Promise<UnpaidInvoice[]> {
    const { billingUnpaidInvoices } = tablesOf(this.db);
    return this.db
      .select()
      .from(billingUnpaidInvoices)
      .where(and(eq(billingUnpaidInvoices.customerId, customerId), isNull(billingUnpaidInvoices.paidAt)))
      .orderBy(asc(billingUnpaidInvoices.firstFailedAt));
  }

  async overdue(failedAtOrBefore: number): Promise<UnpaidInvoice[]> {
    const { billingUnpaidInvoices } = tablesOf(this.db);
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
      .orderBy(asc(billingUnpaidInvoices.firstFailedAt));
  }

  async markSuspended(stripeInvoiceId: string): Promise<void> {
    const { billingUnpaidInvoices } = tablesOf(this.db);
    await this.db
      .update(billingUnpaidInvoices)
      .set({ suspendedAt: this.clock.now() })
      .where(and(byId(billingUnpaidInvoices, stripeInvoiceId), isNull(billingUnpaidInvoices.suspendedAt)));
  }
}
