/** Customers: create, update, search. */
import { invalid } from "../errors.ts";
import { type Customer, newId } from "../state.ts";
import { get, type Handler } from "./handler.ts";

export const createCustomer: Handler = ({ state, params }) => {
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

export const updateCustomer: Handler = ({ state, params, path }) => {
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
export const searchCustomers: Handler = ({ state, params }) => {
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
