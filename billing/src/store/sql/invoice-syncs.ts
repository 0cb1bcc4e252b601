import { and, asc, desc, eq, gt, inArray, lt } from "drizzle-orm";
import type { Clock } from "../../../../domain/records.ts";
import type { Schema } from "../../../../migrations/schema/index.ts";
import { first, type SqlDb, tablesOf } from "../../../../storage/sql-db.ts";
import type { InvoiceSync, InvoiceSyncPatch, InvoiceSyncState, InvoiceSyncStore, NewInvoiceSync } from "../ports.ts";
import { assertValidSync } from "../validation.ts";

const row = (syncs: Schema["billingInvoiceSyncs"], customerId: string, period: string) =>
  and(eq(syncs.customerId, customerId), eq(syncs.period, period));

const line = (lines: Schema["billingInvoiceLines"], customerId: string, period: string, lineKey: string) =>
  and(eq(lines.customerId, customerId), eq(lines.period, period), eq(lines.lineKey, lineKey));

const defined = <T extends object>(patch: T): Partial<T> =>
  Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;

/** Invoice sync state: first-writer-wins inserts and compare-and-set transitions, one statement each. */
export class SqlInvoiceSyncStore implements InvoiceSyncStore {
  constructor(
    private readonly db: SqlDb,
    private readonly clock: Clock,
  ) {}

  async get(customerId: string, period: string): Promise<InvoiceSync | null> {
    const { billingInvoiceSyncs } = tablesOf(this.db);
    return (
      (await this.db
        .select()
        .from(billingInvoiceSyncs)
        .where(row(billingInvoiceSyncs, customerId, period))
        .then(first)) ?? null
    );
  }

  async create(sync: NewInvoiceSync): Promise<InvoiceSync> {
    const { billingInvoiceSyncs } = tablesOf(this.db);
    assertValidSync(sync);
    const now = this.clock.now();
    // First writer wins: a second plan of the same period (a racing run, a re-run) leaves the stored one untouched.
    await this.db
      .insert(billingInvoiceSyncs)
      .values({ ...sync, createdAt: now, updatedAt: now })
      .onConflictDoNothing();
    const first = await this.get(sync.customerId, sync.period);
    if (!first) throw new Error("invoice sync row vanished after insert");
    return first;
  }

  async transition(
    customerId: string,
    period: string,
    from: readonly InvoiceSyncState[],
    to: InvoiceSyncState,
    patch: InvoiceSyncPatch = {},
  ): Promise<InvoiceSync | null> {
    const { billingInvoiceSyncs } = tablesOf(this.db);
    const updated = await this.db
      .update(billingInvoiceSyncs)
      .set({ ...defined(patch), state: to, updatedAt: this.clock.now() })
      .where(and(row(billingInvoiceSyncs, customerId, period), inArray(billingInvoiceSyncs.state, [...from])))
      .returning()
      .then(first);
    return updated ?? null;
  }

  async patch(customerId: string, period: string, patch: InvoiceSyncPatch): Promise<InvoiceSync | null> {
    const { billingInvoiceSyncs } = tablesOf(this.db);
    const updated = await this.db
      .update(billingInvoiceSyncs)
      .set({ ...defined(patch), updatedAt: this.clock.now() })
      .where(row(billingInvoiceSyncs, customerId, period))
      .returning()
      .then(first);
    return updated ?? null;
  }

  async setLineItem(customerId: string, period: string, lineKey: string, itemId: string): Promise<string> {
    const { billingInvoiceLines } = tablesOf(this.db);
    await this.db
      .insert(billingInvoiceLines)
      .values({ customerId, period, lineKey, stripeInvoiceItemId: itemId, createdAt: this.clock.now() })
      .onConflictDoNothing({
        target: [billingInvoiceLines.customerId, billingInvoiceLines.period, billingInvoiceLines.lineKey],
      });
    const stored = await this.db
      .select({ id: billingInvoiceLines.stripeInvoiceItemId })
      .from(billingInvoiceLines)
      .where(line(billingInvoiceLines, customerId, period, lineKey));
    const first = stored[0];
    if (!first) throw new Error("invoice line row vanished after insert");
    return first.id;
  }

  async lineItems(customerId: string, period: string): Promise<Record<string, string>> {
    const { billingInvoiceLines } = tablesOf(this.db);
    const rows = await this.db
      .select({ key: billingInvoiceLines.lineKey, id: billingInvoiceLines.stripeInvoiceItemId })
      .from(billingInvoiceLines)
      .where(and(eq(billingInvoiceLines.customerId, customerId), eq(billingInvoiceLines.period, period)));
    return Object.fromEntries(rows.map((r) => [r.key, r.id]));
  }

  async latestBefore(customerId: string, period: string): Promise<InvoiceSync | null> {
    const { billingInvoiceSyncs } = tablesOf(this.db);
    const found = await this.db
      .select()
      .from(billingInvoiceSyncs)
      .where(and(eq(billingInvoiceSyncs.customerId, customerId), lt(billingInvoiceSyncs.period, period)))
      .orderBy(desc(billingInvoiceSyncs.period))
      .limit(1)
      .then(first);
    return found ?? null;
  }

  async hasAfter(customerId: string, period: string): Promise<boolean> {
    const { billingInvoiceSyncs } = tablesOf(this.db);
    const found = await this.db
      .select({ p: billingInvoiceSyncs.period })
      .from(billingInvoiceSyncs)
      .where(and(eq(billingInvoiceSyncs.customerId, customerId), gt(billingInvoiceSyncs.period, period)))
      .limit(1)
      .then(first);
    return found !== undefined;
  }

  async listPeriod(period: string): Promise<InvoiceSync[]> {
    const { billingInvoiceSyncs } = tablesOf(this.db);
    return this.db
      .select()
      .from(billingInvoiceSyncs)
      .where(eq(billingInvoiceSyncs.period, period))
      .orderBy(asc(billingInvoiceSyncs.customerId));
  }

  async findByStripeInvoice(stripeInvoiceId: string): Promise<InvoiceSync | null> {
    const { billingInvoiceSyncs } = tablesOf(this.db);
    const found = await this.db
      .select()
      .from(billingInvoiceSyncs)
      .where(eq(billingInvoiceSyncs.stripeInvoiceId, stripeInvoiceId))
      .then(first);
    return found ?? null;
  }
}
