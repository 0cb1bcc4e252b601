import type { Clock, Customer } from "../../domain/records.ts";
import { BillingError } from "./errors.ts";
import { type Period, parsePeriod, periodAt, previousPeriod } from "./period.ts";
import { PriceBook } from "./price-book.ts";
import type { ReconcilerConfig } from "./reconcile/reconciler.ts";
import { Reconciler } from "./reconcile/reconciler.ts";
import { customerReport, type PeriodReport, periodReport } from "./reconcile/report.ts";
import type { BillingCustomers, BillingPlans, BillingStores, InvoiceSync, StripePriceRef } from "./store/ports.ts";
import type { StripeGateway } from "./stripe/port.ts";
import { WebhookHandler, type WebhookOutcome } from "./webhooks/handler.ts";

export interface BillingConfig extends ReconcilerConfig {
  /** Where the billing portal sends the customer back to; null: Stripe's default (the portal's configuration). */
  portalReturnUrl: string | null;
  /** Failed payment → keys suspended after this long unless paid. */
  gracePeriodMs: number;
}

export const defaultBillingConfig = (overrides: Partial<BillingConfig> = {}): BillingConfig => ({
  settleMs: 15 * 60_000,
  collectionMethod: "charge_automatically",
  daysUntilDue: 14,
  keyPrefix: "billing:v1",
  portalReturnUrl: null,
  gracePeriodMs: 72 * 3_600_000,
  ...overrides,
});

export interface BillingDeps {
  customers: Pick<BillingCustomers, "getCustomer" | "list" | "update" | "suspend" | "restore">;
  plans: Pick<BillingPlans, "listPlans" | "listVersions" | "getPlan" | "getVersion">;
  billing: BillingStores;
  /** null when STRIPE_SECRET_KEY is not set: every Stripe-facing operation answers BILLING_NOT_CONFIGURED. */
  stripe: StripeGateway | null;
  /** STRIPE_WEBHOOK_SECRET; null: the webhook endpoint answers BILLING_NOT_CONFIGURED. */
  webhookSecret: string | null;
  clock: Clock;
  config?: Partial<BillingConfig>;
  log?: (line: Record<string, unknown>) => void;
}

export interface ScheduledRun {
  suspended: string[];
  reports: PeriodReport[];
  subscriptions: string[];
  skipped?: "already running";
}

/**
 * Billing as the proxy and the CLI use it: one object per process, over async ports (SQLite or D1), the Stripe
 * gateway and the clock. Runtime-neutral: the Node entry, the Workers entry and the CLI only build its deps.
 */
export class BillingService {
  readonly config: BillingConfig;
  readonly #reconciler: Reconciler | null;
  readonly #webhooks: WebhookHandler | null;
  #running = false;

  constructor(private readonly d: BillingDeps) {
    this.config = defaultBillingConfig(d.config);
    this.#reconciler = d.stripe
      ? new Reconciler({
          customers: d.customers,
          plans: d.plans,
          billing: d.billing,
          stripe: d.stripe,
          clock: d.clock,
          config: this.config,
          ...(d.log ? { log: d.log } : {}),
        })
      : null;
    this.#webhooks = d.webhookSecret
      ? new WebhookHandler({
          secret: d.webhookSecret,
          billing: d.billing,
          customers: d.customers,
          clock: d.clock,
          gracePeriodMs: this.config.gracePeriodMs,
          ...(d.log ? { log: d.log } : {}),
        })
      : null;
  }

  get stripeConfigured(): boolean {
    return this.#reconciler !== null;
  }

  #need(): Reconciler {
    if (!this.#reconciler) {
      throw new BillingError("BILLING_NOT_CONFIGURED", "billing is not configured: Stripe needs STRIPE_SECRET_KEY");
    }
    return this.#reconciler;
  }

  static period(text: string): Period {
    const p = parsePeriod(text);
    if (!p)
      throw new BillingError(
        "INVALID_REQUEST",
        `period must be YYYY-MM (a calendar month), got ${JSON.stringify(text)}`,
      );
    return p;
  }

  async reconcile(period: string, options: { customerIds?: string[] } = {}): Promise<PeriodReport> {
    return this.#need().reconcile(BillingService.period(period), options);
  }

  /** What is recorded for a period (no Stripe calls): works without Stripe configured. */
  async report(period: string): Promise<PeriodReport> {
    const p = BillingService.period(period);
    if (this.#reconciler) return this.#reconciler.report(p);
    const rows = await this.d.billing.syncs.listPeriod(p.id);
    return periodReport(
      p,
      this.d.clock.now(),
      rows.map((sync) => customerReport({ customerId: sync.customerId, period: p.id, state: sync.state, sync })),
    );
  }

  /** A customer's invoices of these periods ("YYYY-MM"), as recorded (no Stripe call), in the order given. */
  async invoices(customerId: string, periods: readonly string[]): Promise<InvoiceSync[]> {
    const rows = await Promise.all(periods.map((p) => this.d.billing.syncs.get(customerId, p)));
    return rows.filter((r): r is InvoiceSync => r !== null);
  }

  /** A billing portal session for the customer (their Stripe customer is created on first need). */
  async portalSession(customer: Customer): Promise<{ url: string; id: string }> {
    const reconciler = this.#need();
    const stripeCustomerId = await this.#stripe(() => reconciler.catalog.ensureCustomer(customer));
    return this.#stripe(() =>
      (this.d.stripe as StripeGateway).createPortalSession({
        stripeCustomerId,
        returnUrl: this.config.portalReturnUrl,
      }),
    );
  }

  async handleWebhook(rawBody: Uint8Array | string, signature: string | null): Promise<WebhookOutcome> {
    if (!this.#webhooks) {
      throw new BillingError("BILLING_NOT_CONFIGURED", "Stripe webhooks are not configured: set STRIPE_WEBHOOK_SECRET");
    }
    return this.#webhooks.handle(rawBody, signature);
  }

  /** Mirrors a price version to new Stripe prices (Stripe prices are immutable: a new version, new prices). */
  async mirrorPriceVersion(planId: string, priceVersionId: string): Promise<StripePriceRef[]> {
    const reconciler = this.#need();
    const [plan, version] = await Promise.all([this.d.plans.getPlan(planId), this.d.plans.getVersion(priceVersionId)]);
    if (!plan || !version)
      throw new BillingError("INVALID_REQUEST", `no price version ${priceVersionId} of plan ${planId}`);
    return this.#stripe(() => reconciler.catalog.mirrorVersion(plan, version));
  }

  /** Stripe customer (and enterprise subscription) for a customer, e.g. right after it is created. */
  async syncCustomer(customerId: string): Promise<{ stripeCustomerId: string; subscriptionId: string | null }> {
    const reconciler = this.#need();
    const customer = await this.d.customers.getCustomer(customerId);
    if (!customer) throw new BillingError("INVALID_REQUEST", `no customer ${customerId}`);
    const book = await PriceBook.load(this.d.plans);
    const stripeCustomerId = await this.#stripe(() => reconciler.catalog.ensureCustomer(customer));
    const fresh = (await this.d.customers.getCustomer(customerId)) ?? customer;
    const sub = await this.#stripe(() => reconciler.catalog.ensureSubscription(fresh, book));
    return { stripeCustomerId, subscriptionId: sub?.stripeSubscriptionId ?? null };
  }

  /**
   * The periodic job (a timer in the Node entry, a cron on Workers): suspend customers past their grace period,
   * make sure enterprise customers have their subscription, and reconcile the previous month of every plan time zone
   * once it has closed there. Idempotent; a run that finds one in progress in this process does nothing.
   */
  async runScheduled(): Promise<ScheduledRun> {
    if (this.#running) return { suspended: [], reports: [], subscriptions: [], skipped: "already running" };
    this.#running = true;
    try {
      const suspended = this.#webhooks ? await this.#webhooks.dunning.enforce() : [];
      if (!this.#reconciler) return { suspended, reports: [], subscriptions: [] };
      const book = await PriceBook.load(this.d.plans);
      const now = this.d.clock.now();
      const subscriptions: string[] = [];
      const periods = new Map<string, Period>();
      for (const plan of book.plans()) {
        const p = previousPeriod(periodAt(now, plan.timeZone));
        periods.set(p.id, p);
      }
      for await (const c of this.#enterpriseCustomers(book)) {
        try {
          const sub = await this.#reconciler.catalog.ensureSubscription(c, book);
          if (sub) subscriptions.push(sub.stripeSubscriptionId);
        } catch (e) {
          this.d.log?.({ level: "error", msg: "subscription sync failed", customer_id: c.id, error: String(e) });
        }
      }
      const reports: PeriodReport[] = [];
      for (const p of [...periods.values()].sort((a, b) => (a.id < b.id ? -1 : 1))) {
        reports.push(await this.#reconciler.reconcile(p));
      }
      return { suspended, reports, subscriptions };
    } finally {
      this.#running = false;
    }
  }

  async *#enterpriseCustomers(book: PriceBook): AsyncIterable<Customer> {
    let afterId: string | undefined;
    for (;;) {
      const page = await this.d.customers.list({ limit: 500, status: "active", ...(afterId ? { afterId } : {}) });
      for (const c of page) if (book.plan(c.planId)?.kind === "enterprise") yield c;
      if (page.length < 500) return;
      afterId = page[page.length - 1]?.id;
    }
  }

  async #stripe<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      if (e instanceof BillingError) throw e;
      throw new BillingError(
        "BILLING_UNAVAILABLE",
        `Stripe request failed: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
}
