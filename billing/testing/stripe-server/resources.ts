import { createPrice, createProduct, updatePrice } from "./resources/catalog.ts";
import { createCustomer, searchCustomers, updateCustomer } from "./resources/customers.ts";
import { type Ctx, get, type Handler } from "./resources/handler.ts";
import { createInvoiceItem, deleteInvoiceItem, listInvoiceItems } from "./resources/invoice-items.ts";
import { createInvoice, finalizeInvoice, listInvoices, payInvoice, voidInvoice } from "./resources/invoices.ts";
import { createPortalSession } from "./resources/portal.ts";
import {
  cancelSubscription,
  createSubscription,
  listSubscriptions,
  updateSubscription,
} from "./resources/subscriptions.ts";
import type { Json, StripeState } from "./state.ts";

export type { Ctx, Handler } from "./resources/handler.ts";

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
