/** Invoice items and the draft invoices they attach to. */
import { invalid } from "../errors.ts";
import { type Invoice, type InvoiceItem, newId, page, type StripeState } from "../state.ts";
import { currencyOf, get, type Handler, listOptions } from "./handler.ts";

export const draftOf = (state: StripeState, invoiceId: string, customer: string, currency: string): Invoice => {
  const invoice = get(state.invoices, "invoice", invoiceId, "invoice");
  if (invoice.status !== "draft") {
    throw invalid(
      `You can only add invoice items to draft invoices; invoice ${invoiceId} is ${invoice.status}.`,
      "invoice",
      "invoice_not_editable",
    );
  }
  if (invoice.customer !== customer) throw invalid("The invoice belongs to another customer.", "invoice");
  if (invoice.currency !== currency) {
    throw invalid(
      `The currency of the invoice item (${currency}) must match the invoice's currency (${invoice.currency}).`,
      "currency",
    );
  }
  if (state.itemsOf(invoiceId).length >= 250) throw invalid("An invoice can have at most 250 items.", "invoice");
  return invoice;
};

export const createInvoiceItem: Handler = ({ state, params }) => {
  const customerId = params.required("customer");
  get(state.customers, "customer", customerId, "customer");
  const pricing = params.object("pricing");
  const priceId = pricing?.string("price");
  pricing?.done();
  const quantity = params.integer("quantity", { min: 0 }) ?? 1;
  let amount: number;
  let currency: string;
  let pricingOut: InvoiceItem["pricing"] = null;
  if (priceId) {
    const price = get(state.prices, "price", priceId, "pricing[price]");
    if (price.unit_amount === null) throw invalid("The price has a fractional unit amount; pass amount.", "pricing");
    amount = price.unit_amount * quantity;
    currency = price.currency;
    pricingOut = {
      type: "price_details",
      price_details: { price: price.id, product: price.product },
      unit_amount_decimal: price.unit_amount_decimal ?? String(price.unit_amount),
    };
  } else {
    const a = params.integer("amount");
    if (a === undefined) throw invalid("Missing required param: amount.", "amount", "parameter_missing");
    amount = a;
    currency = currencyOf(params, true) as string;
  }
  const invoiceId = params.string("invoice");
  const periodParams = params.object("period");
  const now = state.seconds();
  const period = {
    start: periodParams?.integer("start") ?? now,
    end: periodParams?.integer("end") ?? now,
  };
  periodParams?.done();
  const item: InvoiceItem = {
    id: newId("ii", 24),
    object: "invoiceitem",
    amount,
    currency,
    customer: customerId,
    date: now,
    description: params.string("description", { max: 500 }) ?? null,
    invoice: null,
    metadata: params.metadata(),
    period,
    pricing: pricingOut,
    quantity,
    proration: false,
    parent: null,
    livemode: false,
  };
  params.done();
  if (invoiceId) {
    const invoice = draftOf(state, invoiceId, customerId, currency);
    item.invoice = invoice.id;
    state.invoiceItems.set(item.id, item);
    state.recompute(invoice);
  } else state.invoiceItems.set(item.id, item);
  return item;
};

export const listInvoiceItems: Handler = ({ state, params }) => {
  const customer = params.string("customer");
  const invoice = params.string("invoice");
  const pending = params.boolean("pending");
  const options = listOptions(params, "/v1/invoiceitems");
  params.done();
  const all = [...state.invoiceItems.values()].filter(
    (i) =>
      (customer === undefined || i.customer === customer) &&
      (invoice === undefined || i.invoice === invoice) &&
      (pending === undefined || (i.invoice === null) === pending),
  );
  return page(all, options);
};

export const deleteInvoiceItem: Handler = ({ state, path }) => {
  const item = get(state.invoiceItems, "invoiceitem", path.id as string);
  const invoice = item.invoice ? state.invoices.get(item.invoice) : undefined;
  if (invoice && invoice.status !== "draft") {
    throw invalid("You cannot delete an invoice item of a finalized invoice.", "id", "invoice_not_editable");
  }
  state.invoiceItems.delete(item.id);
  if (invoice) state.recompute(invoice);
  return { id: item.id, object: "invoiceitem", deleted: true };
};
