import type { Clock, Customer } from "../../../domain/records.ts";
import type { BillingCustomers, DunningStore } from "../store/ports.ts";

/** Suspension reasons set by billing start with this, so billing only ever lifts its own suspensions. */
export const BILLING_SUSPENSION_PREFIX = "billing:";
export const overdueReason = (invoiceId: string) => `${BILLING_SUSPENSION_PREFIX} payment overdue (${invoiceId})`;
export const canceledReason = (subscriptionId: string) =>
  `${BILLING_SUSPENSION_PREFIX} subscription canceled (${subscriptionId})`;
const isOverdueSuspension = (c: Customer) =>
  c.suspendedReason?.startsWith(`${BILLING_SUSPENSION_PREFIX} payment overdue`);

export interface DunningDeps {
  dunning: DunningStore;
  customers: Pick<BillingCustomers, "getCustomer" | "suspend" | "restore">;
  clock: Clock;
  /** How long after an invoice's first failed payment the customer's keys are suspended. */
  gracePeriodMs: number;
  log?: (line: Record<string, unknown>) => void;
}

/**
 * Failed payments → suspension after a grace period; payment → restore. A customer's keys are suspended (403 on
 * every key) once an invoice has stayed unpaid for `gracePeriodMs` after its first failed attempt, and restored when
 * no failed invoice of theirs is left unpaid — unless someone else suspended them for another reason.
 */
export class Dunning {
  constructor(private readonly d: DunningDeps) {}

  async paymentFailed(invoiceId: string, customerId: string): Promise<string> {
    const unpaid = await this.d.dunning.recordFailure(invoiceId, customerId);
    if (unpaid.paidAt !== null) return `payment failure of paid invoice ${invoiceId} ignored`;
    const suspended = await this.enforce();
    if (suspended.includes(customerId)) return `suspended ${customerId}: ${invoiceId} unpaid past the grace period`;
    const deadline = new Date(unpaid.firstFailedAt + this.d.gracePeriodMs).toISOString();
    return `payment of ${invoiceId} failed (${unpaid.failures}×); ${customerId} is suspended at ${deadline} unless paid`;
  }

  async paid(invoiceId: string, customerId: string): Promise<string> {
    await this.d.dunning.recordPaid(invoiceId);
    const left = await this.d.dunning.unpaidFor(customerId);
    const customer = await this.d.customers.getCustomer(customerId);
    if (left.length === 0 && customer?.status === "suspended" && isOverdueSuspension(customer)) {
      await this.d.customers.restore(customerId);
      this.d.log?.({
        level: "info",
        msg: "customer restored after payment",
        customer_id: customerId,
        invoice: invoiceId,
      });
      return `restored ${customerId}: ${invoiceId} paid`;
    }
    return left.length === 0 ? `${invoiceId} paid` : `${invoiceId} paid; ${left.length} other invoice(s) still unpaid`;
  }

  /** Suspends every customer with an invoice unpaid past the grace period; returns who was suspended now. */
  async enforce(): Promise<string[]> {
    const overdue = await this.d.dunning.overdue(this.d.clock.now() - this.d.gracePeriodMs);
    const suspended: string[] = [];
    for (const u of overdue) {
      const customer = await this.d.customers.getCustomer(u.customerId);
      if (customer?.status === "active") {
        await this.d.customers.suspend(u.customerId, overdueReason(u.stripeInvoiceId));
        suspended.push(u.customerId);
        this.d.log?.({
          level: "warn",
          msg: "customer suspended: invoice unpaid",
          customer_id: u.customerId,
          invoice: u.stripeInvoiceId,
        });
      }
      await this.d.dunning.markSuspended(u.stripeInvoiceId);
    }
    return suspended;
  }
}
