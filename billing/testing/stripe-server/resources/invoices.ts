/** Invoices: create, list, finalise, pay, void. */
import { invalid, StripeApiError } from "../errors.ts";
import { type Customer, type Invoice, newId, page, type StripeState } from "../state.ts";
import { type Ctx, currencyOf, get, type Handler, listOptions } from "./handler.ts";

export function newInvoice(
  state: StripeState,
  customer: Customer,
  fields: Partial<Invoice> & Pick<Invoice, "currency" | "collection_method" | "billing_reason">,
): Invoice {
  const now = state.seconds();
  const invoice: Invoice = {
    id: newId("in", 24),
    object: "invoice",
    customer: customer.id,
    status: "draft",
    created: now,
    number: null,
    auto_advance: false,
    description: null,
    metadata: {},
    subtotal: 0,
    total: 0,
    amount_due: 0,
    amount_paid: 0,
    amount_remaining: 0,
    attempt_count: 0,
    attempted: false,
    due_date: null,
    period_start: now,
    period_end: now,
    parent: null,
    status_transitions: { finalized_at: null, paid_at: null, voided_at: null, marked_uncollectible_at: null },
    hosted_invoice_url: null,
    livemode: false,
    ...fields,
  };
  state.invoices.set(invoice.id, invoice);
  return invoice;
}

export const createInvoice: Handler = ({ state, params, request }) => {
  const customer = get(state.customers, "customer", params.required("customer"), "customer");
  const behavior = params.oneOf("pending_invoice_items_behavior", ["include", "exclude"] as const) ?? "exclude";
  const collection = params.oneOf("collection_method", ["charge_automatically", "send_invoice"] as const);
  const daysUntilDue = params.integer("days_until_due", { min: 0 });
  if (collection === "send_invoice" && daysUntilDue === undefined) {
    throw invalid("Missing required param: days_until_due (send_invoice).", "days_until_due", "parameter_missing");
  }
  const currency = currencyOf(params, false) ?? customer.currency ?? "usd";
  const invoice = newInvoice(state, customer, {
    currency,
    collection_method: collection ?? "charge_automatically",
    billing_reason: "manual",
    auto_advance: params.boolean("auto_advance") ?? false,
    description: params.string("description") ?? null,
    metadata: params.metadata(),
    due_date: daysUntilDue !== undefined ? state.seconds() + daysUntilDue * 86_400 : null,
  });
  params.done();
  // Since 2022-08-01 pending items are excluded unless asked for; `include` sweeps the customer's pending items in
  // the invoice's currency (not those reserved for a subscription).
  if (behavior === "include") {
    for (const item of state.invoiceItems.values()) {
      if (item.customer === customer.id && item.invoice === null && item.currency === currency && !item.parent) {
        item.invoice = invoice.id;
      }
    }
  }
  state.recompute(invoice);
  state.emit("invoice.created", state.renderInvoice(invoice), request);
  return state.renderInvoice(invoice);
};

export const listInvoices: Handler = ({ state, params }) => {
  const customer = params.string("customer");
  const status = params.string("status");
  const subscription = params.string("subscription");
  const options = listOptions(params, "/v1/invoices");
  params.done();
  const all = [...state.invoices.values()].filter(
    (i) =>
      (customer === undefined || i.customer === customer) &&
      (status === undefined || i.status === status) &&
      (subscription === undefined || i.parent?.subscription_details.subscription === subscription),
  );
  const listed = page(all, options);
  return { ...listed, data: listed.data.map((i) => state.renderInvoice(i)) };
};

export function finalize(state: StripeState, invoice: Invoice, request: Ctx["request"]): void {
  state.recompute(invoice);
  const now = state.seconds();
  invoice.status = "open";
  invoice.number = state.nextInvoiceNumber();
  invoice.status_transitions.finalized_at = now;
  invoice.hosted_invoice_url = `${state.baseUrl()}/i/${invoice.id}`;
  const customer = state.customers.get(invoice.customer);
  if (customer && !customer.currency) customer.currency = invoice.currency;
  state.emit("invoice.finalized", state.renderInvoice(invoice), request);
  // Stripe marks an invoice with nothing to pay as paid when it is finalized.
  if (invoice.amount_due === 0) markPaid(state, invoice, request);
}

export function markPaid(state: StripeState, invoice: Invoice, request: Ctx["request"]): void {
  invoice.status = "paid";
  invoice.amount_paid = invoice.amount_due;
  invoice.amount_remaining = 0;
  invoice.status_transitions.paid_at = state.seconds();
  state.emit("invoice.paid", state.renderInvoice(invoice), request);
}

export const finalizeInvoice: Handler = ({ state, params, path, request }) => {
  const invoice = get(state.invoices, "invoice", path.id as string);
  params.boolean("auto_advance");
  params.done();
  if (invoice.status !== "draft") {
    throw invalid(
      "This invoice is already finalized, you can't re-finalize a non-draft invoice.",
      "id",
      "invoice_not_editable",
    );
  }
  finalize(state, invoice, request);
  return state.renderInvoice(invoice);
};

/** Attempts payment; the outcome is the customer's test setting (`paymentOutcome`), success by default. */
export function attemptPayment(state: StripeState, invoice: Invoice, request: Ctx["request"]): boolean {
  invoice.attempt_count++;
  invoice.attempted = true;
  if ((state.paymentOutcome.get(invoice.customer) ?? "succeed") === "fail") {
    state.emit("invoice.payment_failed", state.renderInvoice(invoice), request);
    return false;
  }
  markPaid(state, invoice, request);
  return true;
}

export const payInvoice: Handler = ({ state, params, path, request }) => {
  const invoice = get(state.invoices, "invoice", path.id as string);
  const outOfBand = params.boolean("paid_out_of_band") ?? false;
  params.done();
  if (invoice.status === "draft") finalize(state, invoice, request);
  if (invoice.status === "paid") throw invalid("Invoice is already paid", "id", "invoice_already_paid");
  if (invoice.status !== "open") throw invalid(`Invoice is ${invoice.status}`, "id", "invoice_not_open");
  if (outOfBand) markPaid(state, invoice, request);
  else if (!attemptPayment(state, invoice, request)) {
    throw new StripeApiError(402, "card_error", "Your card was declined.", "card_declined");
  }
  return state.renderInvoice(invoice);
};

export const voidInvoice: Handler = ({ state, path, request }) => {
  const invoice = get(state.invoices, "invoice", path.id as string);
  if (invoice.status !== "open") throw invalid("Only open invoices can be voided.", "id", "invoice_not_open");
  invoice.status = "void";
  invoice.status_transitions.voided_at = state.seconds();
  state.emit("invoice.voided", state.renderInvoice(invoice), request);
  return state.renderInvoice(invoice);
};
