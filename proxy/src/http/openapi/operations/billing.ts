import { obj } from "../components.ts";
import { type DocumentLimits, json, type OperationSpec } from "../spec.ts";
import type { JsonSchema } from "../types.ts";

const str = (description: string): JsonSchema => ({ type: "string", description });
const reportSchema = obj(
  {
    period: str("YYYY-MM"),
    generated_at: str("ISO 8601"),
    ok: {
      type: "boolean",
      description: "every invoice equals its ledger total (carries accounted) and nothing drifted",
    },
    customers: {
      type: "array",
      description:
        "Per customer: state, ledger_micros, carry_in_micros, carry_out_micros, billed_micros, total_minor, the Stripe " +
        "invoice (id, status, total), equal, explanation, drift (code, message), lines.",
      items: { type: "object" },
    },
    totals: { type: "array", items: { type: "object" }, description: "per currency" },
  },
  "A reconciliation report: ledger total vs Stripe invoice total per customer, drift named.",
);
const reconcileBody: JsonSchema = {
  type: "object",
  properties: {
    period: { type: "string", pattern: "^\\d{4}-(0[1-9]|1[0-2])$", description: "a calendar month (plan time zone)" },
    customer_ids: { type: "array", items: { type: "string" }, maxItems: 1000, description: "only these customers" },
  },
  required: ["period"],
};

/** Stripe billing: the customer portal, Stripe's webhooks, and reconciliation for admins. */
export function billingOperations(_limits: DocumentLimits): OperationSpec[] {
  return [
    {
      method: "post",
      path: "/v1/billing/portal",
      operationId: "createBillingPortalSession",
      tag: "Billing",
      summary: "A Stripe billing portal session for the caller's customer",
      description:
        "Returns a short-lived URL of Stripe's customer portal (invoices, payment methods). The customer's Stripe " +
        "customer is created on first need. A suspended customer's key is accepted here (the portal is where an " +
        "overdue invoice is paid). 501 `BILLING_NOT_CONFIGURED` when the proxy has no Stripe key.",
      access: "customer",
      ok: {
        status: 200,
        description: "Open `url` in the customer's browser.",
        content: json(obj({ url: str("the portal session URL"), id: str("the session id (bps_…)") })),
      },
      errors: ["BILLING_NOT_CONFIGURED", "BILLING_UNAVAILABLE"],
    },
    {
      method: "post",
      path: "/stripe/webhook",
      operationId: "stripeWebhook",
      tag: "Billing",
      summary: "Stripe events (invoice.paid, invoice.payment_failed, customer.subscription.deleted)",
      description:
        "Called by Stripe. The `Stripe-Signature` header is verified over the raw body with STRIPE_WEBHOOK_SECRET " +
        "(300 s tolerance). An event id already processed is acknowledged without being processed again; an event " +
        "about an object this system does not know is acknowledged and logged. A failed payment suspends the " +
        "customer's keys after the grace period; payment restores them.",
      access: "public",
      otherBody: {
        required: true,
        description: "A Stripe event, exactly as Stripe sent it (the signature covers these bytes).",
        schema: { type: "object" },
      },
      ok: {
        status: 200,
        description: "Acknowledged.",
        content: json(
          obj({
            received: { type: "boolean" },
            event_id: str("evt_…"),
            type: str("the event type"),
            duplicate: { type: "boolean", description: "true: processed before, not again" },
            outcome: str("what processing did"),
          }),
        ),
      },
      errors: ["STRIPE_SIGNATURE_INVALID", "CONFLICT", "PAYLOAD_TOO_LARGE", "BILLING_NOT_CONFIGURED"],
    },
    {
      method: "post",
      path: "/admin/billing/reconcile",
      operationId: "reconcilePeriod",
      tag: "Billing",
      summary: "Invoice a period in Stripe and report",
      description:
        "Per customer: usage of the period aggregated into invoice items (off-peak, peak, batch, included, overage; " +
        "per price version), one invoice, finalised. Idempotent and resumable: a re-run creates nothing new. Also " +
        "`npm run billing:reconcile -- --period YYYY-MM`, and the scheduled run.",
      access: "admin",
      otherBody: { required: true, description: "The period (and optionally the customers).", schema: reconcileBody },
      ok: { status: 200, description: "The report.", content: json(obj({ report: reportSchema })) },
      errors: [
        "UNSUPPORTED_MEDIA_TYPE",
        "INVALID_JSON",
        "INVALID_REQUEST",
        "BILLING_NOT_CONFIGURED",
        "BILLING_UNAVAILABLE",
      ],
    },
    {
      method: "get",
      path: "/admin/billing/reports/{period}",
      operationId: "getReconciliationReport",
      tag: "Billing",
      summary: "The recorded reconciliation report of a period",
      description: "What the sync state says for the period; no Stripe calls.",
      access: "admin",
      ok: { status: 200, description: "The report.", content: json(obj({ report: reportSchema })) },
      errors: ["INVALID_REQUEST"],
    },
    {
      method: "post",
      path: "/admin/billing/customers/{id}/sync",
      operationId: "syncBillingCustomer",
      tag: "Billing",
      summary: "Create the customer's Stripe customer (and enterprise subscription) now",
      access: "admin",
      ok: {
        status: 200,
        description: "The Stripe ids.",
        content: json(
          obj({ stripe: obj({ stripeCustomerId: str("cus_…"), subscriptionId: { type: ["string", "null"] } }) }),
        ),
      },
      errors: ["INVALID_REQUEST", "BILLING_NOT_CONFIGURED", "BILLING_UNAVAILABLE"],
    },
  ];
}
