import { currencyRules } from "../../../domain/money.ts";
import type { Clock, Customer } from "../../../domain/records.ts";
import { aggregateUsage, type Drift } from "../aggregate.ts";
import { type Period, periodBounds } from "../period.ts";
import { PriceBook } from "../price-book.ts";
import type { BillingCustomers, BillingPlans, BillingStores, InvoiceSync, NewInvoiceSync } from "../store/ports.ts";
import type { StripeGateway, StripeInvoice } from "../stripe/port.ts";
import { CatalogSync } from "./catalog-sync.ts";
import { billingKey, type IdempotencyKeys, idempotencyKeys } from "./keys.ts";
import { type InvoicePlan, lineMetadata, type PlannedLine, planCustomerPeriod, planPeriod } from "./plan.ts";
import { type CustomerReport, customerReport, type PeriodReport, periodReport } from "./report.ts";

export interface ReconcilerConfig {
  /** A period is invoiced only once it ended this long ago (late ledger writes of in-flight requests land first). */
  settleMs: number;
  collectionMethod: "charge_automatically" | "send_invoice";
  daysUntilDue: number;
  /** Prefix of every idempotency key (one per deployment sharing a Stripe account). */
  keyPrefix: string;
}

export const defaultReconcilerConfig: ReconcilerConfig = {
  settleMs: 15 * 60_000,
  collectionMethod: "charge_automatically",
  daysUntilDue: 14,
  keyPrefix: "billing:v1",
};

export interface ReconcilerDeps {
  customers: Pick<BillingCustomers, "getCustomer" | "list" | "update">;
  plans: Pick<BillingPlans, "listPlans" | "listVersions">;
  billing: BillingStores;
  stripe: StripeGateway;
  clock: Clock;
  config?: Partial<ReconcilerConfig>;
  log?: (line: Record<string, unknown>) => void;
}

/** The period has not ended (plus the settle delay) in the customer's plan time zone. */
export class PeriodNotClosedError extends Error {}

/**
 * Turns a period's ledger into exactly one finalised Stripe invoice per customer, resumably.
 *
 * Per customer and period, a sync row moves `planned → invoice_created → items_created → finalized → reconciled`.
 * The plan (lines and amounts) is frozen first, locally; every Stripe call is then made from it with a deterministic
 * idempotency key, and its result is recorded (compare-and-set) only after the call. A crash between a Stripe call
 * and its record is resumed by the same call — Stripe replays the stored result — and, should the key have expired,
 * by finding the object through its metadata (`billing_key`, `line_key`) before creating anything. So a re-run
 * creates nothing new, and a crash anywhere ends, after a re-run, in one invoice with the planned total.
 */
export class Reconciler {
  readonly config: ReconcilerConfig;
  readonly keys: IdempotencyKeys;
  readonly catalog: CatalogSync;

  constructor(private readonly d: ReconcilerDeps) {
    this.config = { ...defaultReconcilerConfig, ...d.config };
    this.keys = idempotencyKeys(this.config.keyPrefix);
    this.catalog = new CatalogSync({
      stripe: d.stripe,
      catalog: d.billing.catalog,
      customers: d.customers,
      keys: this.keys,
      clock: d.clock,
      collectionMethod: this.config.collectionMethod,
      daysUntilDue: this.config.daysUntilDue,
    });
  }

  /** Reconciles every customer (or the given ones) for a period and reports each. */
  async reconcile(period: Period, options: { customerIds?: string[] } = {}): Promise<PeriodReport> {
    const book = await PriceBook.load(this.d.plans);
    const mirrorFailures = await this.catalog.mirrorAll(book);
    for (const f of mirrorFailures) this.#log({ level: "warn", msg: "price version not mirrored", ...f });
    const customers: Customer[] = [];
    for await (const customer of this.#customers(options.customerIds)) customers.push(customer);
    const planned = await this.#planAll(customers, period, book);
    const reports: CustomerReport[] = [];
    for (const customer of customers) {
      reports.push(await this.reconcileCustomer(customer, period, book, planned.get(customer.id)));
    }
    return periodReport(period, this.d.clock.now(), reports);
  }

  /**
   * Plans, in one pass over the period's usage, every customer that has no plan yet and whose period has closed;
   * a customer that cannot be planned this way is left to `reconcileCustomer` (which reports why).
   */
  async #planAll(
    customers: readonly Customer[],
    period: Period,
    book: PriceBook,
  ): Promise<Map<string, NewInvoiceSync>> {
    const due: Customer[] = [];
    for (const c of customers) {
      const plan = book.plan(c.planId);
      if (!plan || (await this.d.billing.syncs.get(c.id, period.id))) continue;
      if (this.d.clock.now() < periodBounds(period, plan.timeZone).toMs + this.config.settleMs) continue;
      if (await this.d.billing.syncs.hasAfter(c.id, period.id)) continue;
      due.push(c);
    }
    if (due.length === 0) return new Map();
    try {
      return await planPeriod({
        book,
        usage: this.d.billing.usage,
        syncs: this.d.billing.syncs,
        customers: due,
        period,
      });
    } catch (e) {
      this.#log({ level: "warn", msg: "bulk planning failed; planning customer by customer", error: String(e) });
      return new Map();
    }
  }

  /** One customer's period: plan it if needed, then drive its sync row to a final state. Never throws. */
  async reconcileCustomer(
    customer: Customer,
    period: Period,
    book: PriceBook,
    preplanned?: NewInvoiceSync,
  ): Promise<CustomerReport> {
    let sync: InvoiceSync | null = null;
    try {
      const plan = book.plan(customer.planId);
      if (!plan) throw new Error(`unknown plan ${customer.planId}`);
      if (plan.kind === "enterprise") await this.catalog.ensureSubscription(customer, book);
      sync = await this.d.billing.syncs.get(customer.id, period.id);
      if (!sync) {
        const { toMs } = periodBounds(period, plan.timeZone);
        if (this.d.clock.now() < toMs + this.config.settleMs) {
          return customerReport({ customerId: customer.id, period: period.id, state: "not_closed", sync: null });
        }
        if (await this.d.billing.syncs.hasAfter(customer.id, period.id)) {
          const drift: Drift = { code: "out_of_order", message: `a later period of ${customer.id} is already planned` };
          return customerReport({
            customerId: customer.id,
            period: period.id,
            state: "out_of_order",
            sync: null,
            drift: [drift],
          });
        }
        const planned =
          preplanned ??
          (await planCustomerPeriod({
            book,
            usage: this.d.billing.usage,
            syncs: this.d.billing.syncs,
            customer,
            period,
          }));
        sync = await this.d.billing.syncs.create(planned);
      }
      sync = await this.#drive(customer, sync, book);
      return customerReport({ customerId: customer.id, period: period.id, state: sync.state, sync });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.#log({
        level: "error",
        msg: "reconcile failed",
        customer_id: customer.id,
        period: period.id,
        error: message,
      });
      const current = sync ? await this.d.billing.syncs.get(customer.id, period.id) : null;
      return customerReport({
        customerId: customer.id,
        period: period.id,
        state: current?.state ?? "error",
        sync: current,
        error: message,
      });
    }
  }

  async #drive(customer: Customer, start: InvoiceSync, book: PriceBook): Promise<InvoiceSync> {
    let sync = start;
    for (let guard = 0; guard < 10; guard++) {
      const next = await this.#step(customer, sync, book);
      if (next === null) return sync;
      sync = next;
    }
    throw new Error("state machine did not settle");
  }

  /** One transition; null when the row is in a final state. A lost compare-and-set re-reads the row. */
  async #step(customer: Customer, sync: InvoiceSync, book: PriceBook): Promise<InvoiceSync | null> {
    const { syncs } = this.d.billing;
    const reread = async () => (await syncs.get(sync.customerId, sync.period)) ?? sync;
    const plan = sync.plan as InvoicePlan;
    const key = billingKey(sync.customerId, sync.period);
    switch (sync.state) {
      case "planned": {
        const stripeCustomerId = await this.catalog.ensureCustomer(customer);
        const invoice =
          (await this.d.stripe.findInvoice(stripeCustomerId, key)) ??
          (await this.d.stripe.createInvoice(
            {
              stripeCustomerId,
              currency: sync.currency ?? "usd",
              description: `Text-to-speech usage, ${sync.period} (${sync.timeZone})`,
              metadata: { billing_key: key, customer_id: sync.customerId, period: sync.period },
              collectionMethod: this.config.collectionMethod,
              daysUntilDue: this.config.daysUntilDue,
            },
            this.keys.invoice(sync.customerId, sync.period),
          ));
        return (
          (await syncs.transition(sync.customerId, sync.period, ["planned"], "invoice_created", {
            stripeCustomerId,
            stripeInvoiceId: invoice.id,
            stripeInvoiceStatus: invoice.status,
          })) ?? reread()
        );
      }
      case "invoice_created": {
        const invoiceId = sync.stripeInvoiceId as string;
        const recorded = await syncs.lineItems(sync.customerId, sync.period);
        const missing = plan.lines.filter((l) => !recorded[l.key]);
        if (missing.length > 0) {
          const onStripe = await this.d.stripe.listInvoiceItems(invoiceId);
          for (const line of missing) {
            const item =
              onStripe.find((i) => i.metadata.line_key === line.key) ??
              (await this.d.stripe.createInvoiceItem(
                {
                  stripeCustomerId: sync.stripeCustomerId as string,
                  invoiceId,
                  amountMinor: line.amountMinor,
                  currency: sync.currency ?? "usd",
                  description: line.description,
                  metadata: lineMetadata(line, {
                    customerId: sync.customerId,
                    period: sync.period,
                    currency: sync.currency ?? "",
                  }),
                  period: {
                    startSeconds: Math.floor(sync.fromMs / 1000),
                    endSeconds: Math.floor((sync.toMs - 1) / 1000),
                  },
                },
                this.keys.item(sync.customerId, sync.period, line.key),
              ));
            await syncs.setLineItem(sync.customerId, sync.period, line.key, item.id);
          }
        }
        return (await syncs.transition(sync.customerId, sync.period, ["invoice_created"], "items_created")) ?? reread();
      }
      case "items_created": {
        const invoiceId = sync.stripeInvoiceId as string;
        let invoice = await this.d.stripe.getInvoice(invoiceId);
        if (invoice.status === "draft") {
          // Never finalise a draft that is not exactly the plan (someone added or removed lines in Stripe).
          const problem = await this.#draftProblem(sync, plan.lines, invoice);
          if (problem) {
            const drift: Drift[] = [{ code: "invoice_lines_differ", message: problem }];
            return (
              (await syncs.transition(sync.customerId, sync.period, ["items_created"], "drift", {
                error: JSON.stringify(drift),
              })) ?? reread()
            );
          }
          invoice = await this.d.stripe.finalizeInvoice(invoiceId, this.keys.finalize(sync.customerId, sync.period));
        }
        return (
          (await syncs.transition(sync.customerId, sync.period, ["items_created"], "finalized", {
            stripeInvoiceStatus: invoice.status,
            stripeInvoiceNumber: invoice.number,
            stripeTotalMinor: invoice.total,
          })) ?? reread()
        );
      }
      case "finalized": {
        const problems = await this.#verify(sync, book);
        return (
          (await syncs.transition(
            sync.customerId,
            sync.period,
            ["finalized"],
            problems.length === 0 ? "reconciled" : "drift",
            { error: problems.length === 0 ? null : JSON.stringify(problems) },
          )) ?? reread()
        );
      }
      default:
        return null;
    }
  }

  async #draftProblem(
    sync: InvoiceSync,
    lines: readonly PlannedLine[],
    invoice: StripeInvoice,
  ): Promise<string | null> {
    const items = await this.d.stripe.listInvoiceItems(invoice.id);
    const recorded = await this.d.billing.syncs.lineItems(sync.customerId, sync.period);
    const expected = new Map(lines.map((l) => [recorded[l.key], l]));
    const extra = items.filter((i) => !expected.has(i.id));
    const wrong = items.filter((i) => expected.has(i.id) && expected.get(i.id)?.amountMinor !== i.amount);
    if (extra.length > 0) return `the draft invoice has ${extra.length} line(s) that are not in the plan`;
    if (wrong.length > 0) return `${wrong.length} line(s) of the draft have other amounts than planned`;
    if (items.length !== lines.length) return `the draft has ${items.length} of ${lines.length} planned lines`;
    if (invoice.total !== sync.totalMinor) return `the draft totals ${invoice.total}, the plan ${sync.totalMinor}`;
    return null;
  }

  /** Final checks: Stripe's total is the plan's, and the ledger still says what it said when planned. */
  async #verify(sync: InvoiceSync, book: PriceBook): Promise<Drift[]> {
    const drift: Drift[] = [];
    const invoice = await this.d.stripe.getInvoice(sync.stripeInvoiceId as string);
    if (invoice.total !== sync.totalMinor) {
      const micros = (invoice.total - sync.totalMinor) * currencyRules(sync.currency ?? "usd").microsPerMinor;
      drift.push({
        code: "invoice_total_differs",
        message: `Stripe total ${invoice.total} ≠ planned ${sync.totalMinor}`,
        micros,
      });
    }
    const events = [];
    for await (const batch of this.d.billing.usage.scan({
      customerId: sync.customerId,
      fromMs: sync.fromMs,
      toMs: sync.toMs,
    })) {
      events.push(...batch);
    }
    const now = aggregateUsage(book, { customerId: sync.customerId, fromMs: sync.fromMs, toMs: sync.toMs }, events);
    if (now.events !== sync.events || now.amountMicros !== sync.ledgerMicros) {
      drift.push({
        code: "ledger_changed_after_planning",
        message: `the ledger now has ${now.events} events / ${now.amountMicros} micros for the period, planned ${sync.events} / ${sync.ledgerMicros}`,
        events: now.events - sync.events,
        micros: now.amountMicros - sync.ledgerMicros,
      });
    }
    return drift;
  }

  /** The stored report of a period, without calling Stripe. */
  async report(period: Period): Promise<PeriodReport> {
    const rows = await this.d.billing.syncs.listPeriod(period.id);
    return periodReport(
      period,
      this.d.clock.now(),
      rows.map((sync) => customerReport({ customerId: sync.customerId, period: period.id, state: sync.state, sync })),
    );
  }

  async *#customers(ids?: string[]): AsyncIterable<Customer> {
    if (ids) {
      for (const id of ids) {
        const c = await this.d.customers.getCustomer(id);
        if (c) yield c;
      }
      return;
    }
    let afterId: string | undefined;
    for (;;) {
      const page = await this.d.customers.list({ limit: 500, ...(afterId ? { afterId } : {}) });
      for (const c of page) yield c;
      if (page.length < 500) return;
      afterId = page[page.length - 1]?.id;
    }
  }

  #log(line: Record<string, unknown>): void {
    this.d.log?.(line);
  }
}
