/** Subscriptions for monthly fees. */
import { invalid, missing } from "../errors.ts";
import { type InvoiceItem, newId, page, type Subscription } from "../state.ts";
import { get, type Handler, listOptions } from "./handler.ts";
import { attemptPayment, finalize, newInvoice } from "./invoices.ts";

export const addMonths = (seconds: number, months: number) => {
  const d = new Date(seconds * 1000);
  d.setUTCMonth(d.getUTCMonth() + months);
  return Math.floor(d.getTime() / 1000);
};

export const createSubscription: Handler = ({ state, params, request }) => {
  const customer = get(state.customers, "customer", params.required("customer"), "customer");
  const items = params.list("items");
  if (items.length === 0) throw invalid("Missing required param: items.", "items", "parameter_missing");
  const collection = params.oneOf("collection_method", ["charge_automatically", "send_invoice"] as const);
  const daysUntilDue = params.integer("days_until_due", { min: 0 }) ?? null;
  params.oneOf("payment_behavior", ["allow_incomplete", "default_incomplete", "error_if_incomplete"] as const);
  params.oneOf("proration_behavior", ["create_prorations", "none", "always_invoice"] as const);
  const metadata = params.metadata();
  const now = state.seconds();
  const id = newId("sub", 24);
  const subItems = items.map((item) => {
    const price = get(state.prices, "price", item.required("price"), "items[0][price]");
    if (!price.recurring) throw invalid("The price must be recurring to be used in a subscription.", "items[0][price]");
    const quantity = item.integer("quantity", { min: 1 }) ?? 1;
    item.metadata();
    item.done();
    return {
      id: newId("si", 14),
      object: "subscription_item" as const,
      price,
      quantity,
      subscription: id,
      current_period_start: now,
      current_period_end: addMonths(now, 1),
      created: now,
    };
  });
  const currencies = new Set(subItems.map((i) => i.price.currency));
  if (currencies.size > 1) throw invalid("All prices of a subscription must have the same currency.", "items");
  params.done();
  const collectionMethod = collection ?? "charge_automatically";
  const sub: Subscription = {
    id,
    object: "subscription",
    customer: customer.id,
    status: "incomplete",
    created: now,
    start_date: now,
    billing_cycle_anchor: now,
    collection_method: collectionMethod,
    days_until_due: daysUntilDue,
    cancel_at_period_end: false,
    canceled_at: null,
    ended_at: null,
    latest_invoice: null,
    metadata,
    items: { object: "list", data: subItems, has_more: false, url: `/v1/subscription_items?subscription=${id}` },
    livemode: false,
  };
  state.subscriptions.set(id, sub);
  // The first invoice: the licensed items for the first period, plus the customer's pending invoice items.
  const currency = [...currencies][0] as string;
  const invoice = newInvoice(state, customer, {
    currency,
    collection_method: collectionMethod,
    billing_reason: "subscription_create",
    auto_advance: true,
    parent: { type: "subscription_details", subscription_details: { subscription: id, metadata } },
    period_start: now,
    period_end: now,
    due_date: daysUntilDue !== null ? now + daysUntilDue * 86_400 : null,
  });
  for (const si of subItems) {
    const item: InvoiceItem = {
      id: newId("ii", 24),
      object: "invoiceitem",
      amount: (si.price.unit_amount ?? 0) * si.quantity,
      currency,
      customer: customer.id,
      date: now,
      description: `${si.quantity} × ${si.price.nickname ?? si.price.id}`,
      invoice: invoice.id,
      metadata: {},
      period: { start: si.current_period_start, end: si.current_period_end },
      pricing: {
        type: "price_details",
        price_details: { price: si.price.id, product: si.price.product },
        unit_amount_decimal: si.price.unit_amount_decimal ?? "0",
      },
      quantity: si.quantity,
      proration: false,
      parent: { type: "subscription_details", subscription_details: { subscription: id } },
      livemode: false,
    };
    state.invoiceItems.set(item.id, item);
  }
  for (const item of state.invoiceItems.values()) {
    if (item.customer === customer.id && item.invoice === null && item.currency === currency) item.invoice = invoice.id;
  }
  sub.latest_invoice = invoice.id;
  state.emit("invoice.created", state.renderInvoice(invoice), request);
  finalize(state, invoice, request);
  if (invoice.status !== "paid" && collectionMethod === "charge_automatically") attemptPayment(state, invoice, request);
  sub.status = invoice.status === "paid" || collectionMethod === "send_invoice" ? "active" : "incomplete";
  state.emit("customer.subscription.created", sub, request);
  return sub;
};

/** Changes the price of an item (a new price version of the fee); no proration here. */
export const updateSubscription: Handler = ({ state, params, path, request }) => {
  const sub = get(state.subscriptions, "subscription", path.id as string);
  if (sub.status === "canceled") throw invalid("A canceled subscription can't be updated.", "id");
  const items = params.list("items");
  params.oneOf("proration_behavior", ["create_prorations", "none", "always_invoice"] as const);
  const metadata = params.raw.metadata !== undefined ? params.metadata() : undefined;
  const changes = items.map((item) => {
    const itemId = item.required("id");
    const si = sub.items.data.find((x) => x.id === itemId);
    if (!si) throw missing("subscription item", itemId, "items[0][id]");
    const price = get(state.prices, "price", item.required("price"), "items[0][price]");
    item.done();
    return { si, price };
  });
  params.done();
  for (const { si, price } of changes) si.price = price;
  if (metadata) sub.metadata = { ...sub.metadata, ...metadata };
  state.emit("customer.subscription.updated", sub, request);
  return sub;
};

export const cancelSubscription: Handler = ({ state, path, request }) => {
  const sub = get(state.subscriptions, "subscription", path.id as string);
  if (sub.status === "canceled") throw invalid("This subscription is already canceled.", "id");
  const now = state.seconds();
  sub.status = "canceled";
  sub.canceled_at = now;
  sub.ended_at = now;
  state.emit("customer.subscription.deleted", sub, request);
  return sub;
};

export const listSubscriptions: Handler = ({ state, params }) => {
  const customer = params.string("customer");
  const status = params.string("status");
  const options = listOptions(params, "/v1/subscriptions");
  params.done();
  const all = [...state.subscriptions.values()].filter(
    (s) =>
      (customer === undefined || s.customer === customer) &&
      (status === undefined ? s.status !== "canceled" : status === "all" || s.status === status),
  );
  return page(all, options);
};
