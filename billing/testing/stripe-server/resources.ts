import { invalid, missing, StripeApiError } from "./errors.ts";
import type { Params } from "./params.ts";
import {
  type Customer,
  type Invoice,
  type InvoiceItem,
  type Json,
  newId,
  type Price,
  type Product,
  page,
  type StripeState,
  type Subscription,
} from "./state.ts";

/** What a handler knows about its request (for event `request` fields). */
export interface Ctx {
  state: StripeState;
  params: Params;
  path: Record<string, string>;
  request: { id: string | null; idempotencyKey: string | null };
}

export type Handler = (ctx: Ctx) => Json;

const get = <T>(map: Map<string, T>, what: string, id: string, param = "id"): T => {
  const found = map.get(id);
  if (!found) throw missing(what, id, param);
  return found;
};

const listOptions = (p: Params, url: string) => {
  const limit = p.integer("limit", { min: 1 });
  if (limit !== undefined && limit > 100) throw invalid("This value must be less than or equal to 100.", "limit");
  const startingAfter = p.string("starting_after");
  const endingBefore = p.string("ending_before");
  return {
    url,
    ...(limit !== undefined ? { limit } : {}),
    ...(startingAfter ? { startingAfter } : {}),
    ...(endingBefore ? { endingBefore } : {}),
  };
};

const currencyOf = (p: Params, required: boolean) => {
  const c = p.string("currency", { required });
  if (c !== undefined && !/^[a-z]{3}$/.test(c)) throw invalid(`Invalid currency: ${c}`, "currency");
  return c;
};

// ─── customers ──────────────────────────────────────────────────────────────────────────────────────────────────────

const createCustomer: Handler = ({ state, params }) => {
  const customer: Customer = {
    id: newId("cus", 14),
    object: "customer",
    created: state.seconds(),
    email: params.string("email", { max: 512 }) ?? null,
    name: params.string("name", { max: 256 }) ?? null,
    description: params.string("description") ?? null,
    currency: null,
    metadata: params.metadata(),
    livemode: false,
  };
  params.done();
  state.customers.set(customer.id, customer);
  return customer;
};

const updateCustomer: Handler = ({ state, params, path }) => {
  const customer = get(state.customers, "customer", path.id as string);
  const email = params.string("email");
  const name = params.string("name");
  const metadata = params.raw.metadata !== undefined ? params.metadata() : undefined;
  params.done();
  if (email !== undefined) customer.email = email;
  if (name !== undefined) customer.name = name;
  if (metadata) customer.metadata = { ...customer.metadata, ...metadata };
  return customer;
};

/** Search supports the one query form billing uses: `metadata['key']:'value'`. */
const searchCustomers: Handler = ({ state, params }) => {
  const query = params.required("query");
  params.integer("limit");
  params.string("page");
  params.done();
  const m = /^metadata\['([^']+)'\]:'([^']*)'$/.exec(query.trim());
  if (!m) throw invalid(`Unsupported search query: ${query}`, "query");
  const [, key, value] = m as unknown as [string, string, string];
  const data = [...state.customers.values()].filter((c) => c.metadata[key] === value).reverse();
  return { object: "search_result", data, has_more: false, next_page: null, url: "/v1/customers/search" };
};

// ─── products and prices ────────────────────────────────────────────────────────────────────────────────────────────

const createProduct: Handler = ({ state, params }) => {
  const id = params.string("id") ?? newId("prod", 14);
  if (state.products.has(id)) throw invalid(`Product already exists: ${id}`, "id", "resource_already_exists");
  const product: Product = {
    id,
    object: "product",
    active: params.boolean("active") ?? true,
    created: state.seconds(),
    name: params.required("name"),
    description: params.string("description") ?? null,
    metadata: params.metadata(),
    livemode: false,
  };
  params.done();
  state.products.set(id, product);
  return product;
};

const createPrice: Handler = ({ state, params }) => {
  const currency = currencyOf(params, true) as string;
  const product = params.required("product");
  get(state.products, "product", product, "product");
  const unitAmount = params.integer("unit_amount", { min: 0 });
  const unitAmountDecimal = params.decimal("unit_amount_decimal");
  if ((unitAmount === undefined) === (unitAmountDecimal === undefined)) {
    throw invalid("Exactly one of unit_amount or unit_amount_decimal is required.", "unit_amount");
  }
  const recurringParams = params.object("recurring");
  let recurring: Price["recurring"] = null;
  if (recurringParams) {
    const interval = recurringParams.oneOf("interval", ["day", "week", "month", "year"] as const);
    if (!interval) throw invalid("Missing required param: recurring[interval].", "recurring[interval]");
    recurring = {
      interval,
      interval_count: recurringParams.integer("interval_count", { min: 1 }) ?? 1,
      usage_type: "licensed",
    };
    recurringParams.done();
  }
  const lookupKey = params.string("lookup_key") ?? null;
  if (lookupKey && [...state.prices.values()].some((p) => p.lookup_key === lookupKey)) {
    throw invalid(`A price (\`${lookupKey}\`) already uses that lookup key.`, "lookup_key");
  }
  const price: Price = {
    id: newId("price", 24),
    object: "price",
    active: params.boolean("active") ?? true,
    created: state.seconds(),
    currency,
    product,
    nickname: params.string("nickname") ?? null,
    lookup_key: lookupKey,
    metadata: params.metadata(),
    recurring,
    type: recurring ? "recurring" : "one_time",
    unit_amount: unitAmount ?? (Number.isInteger(Number(unitAmountDecimal)) ? Number(unitAmountDecimal) : null),
    unit_amount_decimal: unitAmountDecimal ?? String(unitAmount),
    billing_scheme: "per_unit",
    tax_behavior: params.oneOf("tax_behavior", ["inclusive", "exclusive", "unspecified"] as const) ?? "unspecified",
    livemode: false,
  };
  params.done();
  state.prices.set(price.id, price);
  return price;
};

/** Prices are immutable: only `active`, `nickname`, `metadata` and `lookup_key` can change. */
const updatePrice: Handler = ({ state, params, path }) => {
  const price = get(state.prices, "price", path.id as string);
  const active = params.boolean("active");
  const nickname = params.string("nickname");
  const metadata = params.raw.metadata !== undefined ? params.metadata() : undefined;
  params.done(); // unit_amount, currency, recurring … → "Received unknown parameter"
  if (active !== undefined) price.active = active;
  if (nickname !== undefined) price.nickname = nickname;
  if (metadata) price.metadata = { ...price.metadata, ...metadata };
  return price;
};

// ─── invoice items ──────────────────────────────────────────────────────────────────────────────────────────────────

const draftOf = (state: StripeState, invoiceId: string, customer: string, currency: string): Invoice => {
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

const createInvoiceItem: Handler = ({ state, params }) => {
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

const listInvoiceItems: Handler = ({ state, params }) => {
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

const deleteInvoiceItem: Handler = ({ state, path }) => {
  const item = get(state.invoiceItems, "invoiceitem", path.id as string);
  const invoice = item.invoice ? state.invoices.get(item.invoice) : undefined;
  if (invoice && invoice.status !== "draft") {
    throw invalid("You cannot delete an invoice item of a finalized invoice.", "id", "invoice_not_editable");
  }
  state.invoiceItems.delete(item.id);
  if (invoice) state.recompute(invoice);
  return { id: item.id, object: "invoiceitem", deleted: true };
};

// ─── invoices ───────────────────────────────────────────────────────────────────────────────────────────────────────

function newInvoice(
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

const createInvoice: Handler = ({ state, params, request }) => {
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

const listInvoices: Handler = ({ state, params }) => {
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

function finalize(state: StripeState, invoice: Invoice, request: Ctx["request"]): void {
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

function markPaid(state: StripeState, invoice: Invoice, request: Ctx["request"]): void {
  invoice.status = "paid";
  invoice.amount_paid = invoice.amount_due;
  invoice.amount_remaining = 0;
  invoice.status_transitions.paid_at = state.seconds();
  state.emit("invoice.paid", state.renderInvoice(invoice), request);
}

const finalizeInvoice: Handler = ({ state, params, path, request }) => {
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
function attemptPayment(state: StripeState, invoice: Invoice, request: Ctx["request"]): boolean {
  invoice.attempt_count++;
  invoice.attempted = true;
  if ((state.paymentOutcome.get(invoice.customer) ?? "succeed") === "fail") {
    state.emit("invoice.payment_failed", state.renderInvoice(invoice), request);
    return false;
  }
  markPaid(state, invoice, request);
  return true;
}

const payInvoice: Handler = ({ state, params, path, request }) => {
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

const voidInvoice: Handler = ({ state, path, request }) => {
  const invoice = get(state.invoices, "invoice", path.id as string);
  if (invoice.status !== "open") throw invalid("Only open invoices can be voided.", "id", "invoice_not_open");
  invoice.status = "void";
  invoice.status_transitions.voided_at = state.seconds();
  state.emit("invoice.voided", state.renderInvoice(invoice), request);
  return state.renderInvoice(invoice);
};

// ─── subscriptions ──────────────────────────────────────────────────────────────────────────────────────────────────

const addMonths = (seconds: number, months: number) => {
  const d = new Date(seconds * 1000);
  d.setUTCMonth(d.getUTCMonth() + months);
  return Math.floor(d.getTime() / 1000);
};

const createSubscription: Handler = ({ state, params, request }) => {
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
const updateSubscription: Handler = ({ state, params, path, request }) => {
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

const cancelSubscription: Handler = ({ state, path, request }) => {
  const sub = get(state.subscriptions, "subscription", path.id as string);
  if (sub.status === "canceled") throw invalid("This subscription is already canceled.", "id");
  const now = state.seconds();
  sub.status = "canceled";
  sub.canceled_at = now;
  sub.ended_at = now;
  state.emit("customer.subscription.deleted", sub, request);
  return sub;
};

const listSubscriptions: Handler = ({ state, params }) => {
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

// ─── billing portal ─────────────────────────────────────────────────────────────────────────────────────────────────

const createPortalSession: Handler = ({ state, params }) => {
  const customer = get(state.customers, "customer", params.required("customer"), "customer");
  const returnUrl = params.string("return_url") ?? null;
  if (returnUrl !== null && !/^https?:\/\/\S+$/.test(returnUrl))
    throw invalid("Not a valid URL", "return_url", "url_invalid");
  params.string("configuration");
  params.string("locale");
  params.done();
  const id = newId("bps", 24);
  const session = {
    id,
    object: "billing_portal.session",
    configuration: "bpc_test_default",
    created: state.seconds(),
    customer: customer.id,
    livemode: false,
    locale: null,
    on_behalf_of: null,
    return_url: returnUrl,
    url: `${state.baseUrl()}/p/session/test_${id.slice(4)}`,
    flow: null,
  };
  state.portalSessions.set(id, session);
  return session;
};

// ─── routing table ──────────────────────────────────────────────────────────────────────────────────────────────────

const retrieve =
  <T extends Json>(pick: (s: StripeState) => Map<string, T>, what: string, render?: (s: StripeState, o: T) => Json) =>
  ({ state, params, path }: Ctx): Json => {
    params.done();
    const found = get(pick(state), what, path.id as string);
    return render ? render(state, found) : found;
  };

export const routes: { method: "GET" | "POST" | "DELETE"; path: string; handler: Handler }[] = [
  { method: "POST", path: "/v1/customers", handler: createCustomer },
  { method: "GET", path: "/v1/customers/search", handler: searchCustomers },
  { method: "GET", path: "/v1/customers/:id", handler: retrieve((s) => s.customers, "customer") },
  { method: "POST", path: "/v1/customers/:id", handler: updateCustomer },
  { method: "POST", path: "/v1/products", handler: createProduct },
  { method: "GET", path: "/v1/products/:id", handler: retrieve((s) => s.products, "product") },
  { method: "POST", path: "/v1/prices", handler: createPrice },
  { method: "GET", path: "/v1/prices/:id", handler: retrieve((s) => s.prices, "price") },
  { method: "POST", path: "/v1/prices/:id", handler: updatePrice },
  { method: "POST", path: "/v1/invoiceitems", handler: createInvoiceItem },
  { method: "GET", path: "/v1/invoiceitems", handler: listInvoiceItems },
  { method: "GET", path: "/v1/invoiceitems/:id", handler: retrieve((s) => s.invoiceItems, "invoiceitem") },
  { method: "DELETE", path: "/v1/invoiceitems/:id", handler: deleteInvoiceItem },
  { method: "POST", path: "/v1/invoices", handler: createInvoice },
  { method: "GET", path: "/v1/invoices", handler: listInvoices },
  {
    method: "GET",
    path: "/v1/invoices/:id",
    handler: retrieve(
      (s) => s.invoices,
      "invoice",
      (s, i) => s.renderInvoice(i),
    ),
  },
  { method: "POST", path: "/v1/invoices/:id/finalize", handler: finalizeInvoice },
  { method: "POST", path: "/v1/invoices/:id/pay", handler: payInvoice },
  { method: "POST", path: "/v1/invoices/:id/void", handler: voidInvoice },
  { method: "POST", path: "/v1/subscriptions", handler: createSubscription },
  { method: "GET", path: "/v1/subscriptions", handler: listSubscriptions },
  { method: "GET", path: "/v1/subscriptions/:id", handler: retrieve((s) => s.subscriptions, "subscription") },
  { method: "POST", path: "/v1/subscriptions/:id", handler: updateSubscription },
  { method: "DELETE", path: "/v1/subscriptions/:id", handler: cancelSubscription },
  { method: "POST", path: "/v1/billing_portal/sessions", handler: createPortalSession },
  { method: "GET", path: "/v1/events/:id", handler: retrieve((s) => new Map(s.events.map((e) => [e.id, e])), "event") },
];
