import { type Clock, systemClock } from "../../../domain/records.ts";
import type { BillableEvent } from "../aggregate.ts";
import type {
  BillingStores,
  DunningStore,
  InvoiceSync,
  InvoiceSyncPatch,
  InvoiceSyncState,
  InvoiceSyncStore,
  NewInvoiceSync,
  NewSubscription,
  StripeCatalogStore,
  StripePriceRef,
  Subscription,
  UnpaidInvoice,
  UsageSource,
  WebhookClaim,
  WebhookEventStore,
} from "./ports.ts";
import { assertValidSync, PRICE_ROLE_ORDER } from "./validation.ts";

const copy = <T>(v: T): T => structuredClone(v);
const syncKey = (customerId: string, period: string) => `${customerId}\u0000${period}`;

/** Usage events held in memory, for tests and benchmarks: `add` them, then scan like the SQLite ledger. */
export class InMemoryUsageSource implements UsageSource {
  readonly #byCustomer = new Map<string, BillableEvent[]>();
  #sorted = true;

  add(events: Iterable<BillableEvent>): void {
    for (const e of events) {
      const list = this.#byCustomer.get(e.customerId) ?? [];
      list.push(e);
      this.#byCustomer.set(e.customerId, list);
    }
    this.#sorted = false;
  }

  #sort(): void {
    if (this.#sorted) return;
    // Stable: equal times keep insertion (ledger) order.
    for (const list of this.#byCustomer.values()) list.sort((a, b) => a.occurredAt - b.occurredAt);
    this.#sorted = true;
  }

  async *scan(query: { customerId: string; fromMs: number; toMs: number; batchSize?: number }) {
    this.#sort();
    const size = Math.max(1, query.batchSize ?? 5_000);
    const list = this.#byCustomer.get(query.customerId) ?? [];
    let batch: BillableEvent[] = [];
    for (const e of list) {
      if (e.occurredAt < query.fromMs || e.occurredAt >= query.toMs) continue;
      batch.push(e);
      if (batch.length >= size) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  async *scanPeriod(query: { fromMs: number; toMs: number; batchSize?: number }) {
    const size = Math.max(1, query.batchSize ?? 5_000);
    let batch: BillableEvent[] = [];
    for (const list of this.#byCustomer.values()) {
      for (const e of list) {
        if (e.occurredAt < query.fromMs || e.occurredAt >= query.toMs) continue;
        batch.push(e);
        if (batch.length >= size) {
          yield batch;
          batch = [];
        }
      }
    }
    if (batch.length > 0) yield batch;
  }

  async customersWithUsage(query: { fromMs: number; toMs: number }): Promise<string[]> {
    return [...this.#byCustomer.entries()]
      .filter(([, list]) => list.some((e) => e.occurredAt >= query.fromMs && e.occurredAt < query.toMs))
      .map(([id]) => id)
      .sort();
  }
}

export class InMemoryInvoiceSyncStore implements InvoiceSyncStore {
  readonly #rows = new Map<string, InvoiceSync>();
  readonly #lines = new Map<string, Map<string, string>>();
  readonly #itemIds = new Set<string>();

  constructor(private readonly clock: Clock) {}

  async get(customerId: string, period: string) {
    const row = this.#rows.get(syncKey(customerId, period));
    return row ? copy(row) : null;
  }

  async create(sync: NewInvoiceSync) {
    assertValidSync(sync);
    const key = syncKey(sync.customerId, sync.period);
    const existing = this.#rows.get(key);
    if (existing) return copy(existing);
    const now = this.clock.now();
    const row: InvoiceSync = {
      ...copy(sync),
      stripeCustomerId: sync.stripeCustomerId ?? null,
      stripeInvoiceId: null,
      stripeInvoiceStatus: null,
      stripeInvoiceNumber: null,
      stripeTotalMinor: null,
      createdAt: now,
      updatedAt: now,
    };
    this.#rows.set(key, row);
    return copy(row);
  }

  async transition(
    customerId: string,
    period: string,
    from: readonly InvoiceSyncState[],
    to: InvoiceSyncState,
    patch: InvoiceSyncPatch = {},
  ) {
    const row = this.#rows.get(syncKey(customerId, period));
    if (!row || !from.includes(row.state)) return null;
    if (patch.stripeInvoiceId && this.#invoiceTaken(patch.stripeInvoiceId, row)) {
      throw new Error(`Stripe invoice ${patch.stripeInvoiceId} is already recorded for another period`);
    }
    Object.assign(row, defined(patch), { state: to, updatedAt: this.clock.now() });
    return copy(row);
  }

  async patch(customerId: string, period: string, patch: InvoiceSyncPatch) {
    const row = this.#rows.get(syncKey(customerId, period));
    if (!row) return null;
    Object.assign(row, defined(patch), { updatedAt: this.clock.now() });
    return copy(row);
  }

  async setLineItem(customerId: string, period: string, lineKey: string, itemId: string) {
    const key = syncKey(customerId, period);
    const lines = this.#lines.get(key) ?? new Map<string, string>();
    this.#lines.set(key, lines);
    const existing = lines.get(lineKey);
    if (existing) return existing;
    if (this.#itemIds.has(itemId)) throw new Error(`invoice item ${itemId} is already recorded for another line`);
    lines.set(lineKey, itemId);
    this.#itemIds.add(itemId);
    return itemId;
  }

  async lineItems(customerId: string, period: string) {
    return Object.fromEntries(this.#lines.get(syncKey(customerId, period)) ?? []);
  }

  async latestBefore(customerId: string, period: string) {
    const rows = [...this.#rows.values()].filter((r) => r.customerId === customerId && r.period < period);
    rows.sort((a, b) => (a.period < b.period ? 1 : -1));
    return rows[0] ? copy(rows[0]) : null;
  }

  async hasAfter(customerId: string, period: string) {
    return [...this.#rows.values()].some((r) => r.customerId === customerId && r.period > period);
  }

  async listPeriod(period: string) {
    return [...this.#rows.values()]
      .filter((r) => r.period === period)
      .sort((a, b) => (a.customerId < b.customerId ? -1 : 1))
      .map(copy);
  }

  async findByStripeInvoice(stripeInvoiceId: string) {
    const row = [...this.#rows.values()].find((r) => r.stripeInvoiceId === stripeInvoiceId);
    return row ? copy(row) : null;
  }

  #invoiceTaken(invoiceId: string, own: InvoiceSync): boolean {
    return [...this.#rows.values()].some((r) => r !== own && r.stripeInvoiceId === invoiceId);
  }
}

function defined<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export class InMemoryStripeCatalogStore implements StripeCatalogStore {
  readonly #products = new Map<string, string>();
  readonly #prices = new Map<string, Map<string, StripePriceRef>>();
  readonly #subs = new Map<string, Subscription>();

  constructor(private readonly clock: Clock) {}

  async getProduct(planId: string) {
    return this.#products.get(planId) ?? null;
  }

  async setProduct(planId: string, productId: string) {
    const existing = this.#products.get(planId);
    if (existing) return existing;
    this.#products.set(planId, productId);
    return productId;
  }

  async getPrices(versionId: string) {
    const refs = [...(this.#prices.get(versionId)?.values() ?? [])];
    return refs.sort((a, b) => PRICE_ROLE_ORDER[a.role] - PRICE_ROLE_ORDER[b.role]).map(copy);
  }

  async setPrice(versionId: string, price: StripePriceRef) {
    const roles = this.#prices.get(versionId) ?? new Map<string, StripePriceRef>();
    this.#prices.set(versionId, roles);
    const existing = roles.get(price.role);
    if (existing) return copy(existing);
    roles.set(price.role, copy(price));
    return copy(price);
  }

  async getSubscription(customerId: string) {
    const s = this.#subs.get(customerId);
    return s ? copy(s) : null;
  }

  async findSubscription(stripeSubscriptionId: string) {
    const s = [...this.#subs.values()].find((x) => x.stripeSubscriptionId === stripeSubscriptionId);
    return s ? copy(s) : null;
  }

  async putSubscription(sub: NewSubscription) {
    const now = this.clock.now();
    const row: Subscription = { ...sub, createdAt: this.#subs.get(sub.customerId)?.createdAt ?? now, updatedAt: now };
    this.#subs.set(sub.customerId, row);
    return copy(row);
  }

  async setSubscriptionStatus(stripeSubscriptionId: string, status: string) {
    const s = [...this.#subs.values()].find((x) => x.stripeSubscriptionId === stripeSubscriptionId);
    if (!s) return null;
    s.status = status;
    s.updatedAt = this.clock.now();
    return copy(s);
  }
}

interface WebhookRow {
  eventId: string;
  type: string;
  state: "processing" | "done";
  outcome: string | null;
  attempts: number;
  receivedAt: number;
}

export class InMemoryWebhookEventStore implements WebhookEventStore {
  readonly #rows = new Map<string, WebhookRow>();

  constructor(private readonly clock: Clock) {}

  async claim(eventId: string, type: string, staleAfterMs: number): Promise<WebhookClaim> {
    const now = this.clock.now();
    const row = this.#rows.get(eventId);
    if (!row) {
      this.#rows.set(eventId, { eventId, type, state: "processing", outcome: null, attempts: 1, receivedAt: now });
      return { state: "new", attempt: 1 };
    }
    if (row.state === "done") return { state: "done", outcome: row.outcome };
    if (now - row.receivedAt < staleAfterMs) return { state: "in_progress" };
    row.attempts++;
    row.receivedAt = now;
    return { state: "new", attempt: row.attempts };
  }

  async complete(eventId: string, outcome: string) {
    const row = this.#rows.get(eventId);
    if (row) Object.assign(row, { state: "done", outcome });
  }

  async release(eventId: string) {
    const row = this.#rows.get(eventId);
    if (row?.state === "processing") this.#rows.delete(eventId);
  }

  async get(eventId: string) {
    const row = this.#rows.get(eventId);
    return row ? { eventId, type: row.type, state: row.state, outcome: row.outcome } : null;
  }
}

export class InMemoryDunningStore implements DunningStore {
  readonly #rows = new Map<string, UnpaidInvoice>();

  constructor(private readonly clock: Clock) {}

  async recordFailure(stripeInvoiceId: string, customerId: string) {
    const now = this.clock.now();
    const row = this.#rows.get(stripeInvoiceId);
    if (!row) {
      const fresh: UnpaidInvoice = {
        stripeInvoiceId,
        customerId,
        firstFailedAt: now,
        lastFailedAt: now,
        failures: 1,
        paidAt: null,
        suspendedAt: null,
      };
      this.#rows.set(stripeInvoiceId, fresh);
      return copy(fresh);
    }
    if (row.paidAt === null) {
      row.failures++;
      row.lastFailedAt = now;
    }
    return copy(row);
  }

  async recordPaid(stripeInvoiceId: string) {
    const row = this.#rows.get(stripeInvoiceId);
    if (!row) return null;
    row.paidAt ??= this.clock.now();
    return copy(row);
  }

  async unpaidFor(customerId: string) {
    return [...this.#rows.values()].filter((r) => r.customerId === customerId && r.paidAt === null).map(copy);
  }

  async overdue(failedAtOrBefore: number) {
    return [...this.#rows.values()]
      .filter((r) => r.paidAt === null && r.suspendedAt === null && r.firstFailedAt <= failedAtOrBefore)
      .sort((a, b) => a.firstFailedAt - b.firstFailedAt)
      .map(copy);
  }

  async markSuspended(stripeInvoiceId: string) {
    const row = this.#rows.get(stripeInvoiceId);
    if (row && row.suspendedAt === null) row.suspendedAt = this.clock.now();
  }
}

/** Every billing store in memory (nothing survives the process). */
export function createMemoryBillingStores(options: { clock?: Clock; usage?: UsageSource } = {}): BillingStores & {
  usage: UsageSource;
} {
  const clock = options.clock ?? systemClock;
  return {
    usage: options.usage ?? new InMemoryUsageSource(),
    syncs: new InMemoryInvoiceSyncStore(clock),
    catalog: new InMemoryStripeCatalogStore(clock),
    webhooks: new InMemoryWebhookEventStore(clock),
    dunning: new InMemoryDunningStore(clock),
  };
}
