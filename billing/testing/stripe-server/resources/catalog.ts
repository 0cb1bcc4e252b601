/** Products and prices (prices are immutable). */
import { invalid } from "../errors.ts";
import { newId, type Price, type Product } from "../state.ts";
import { currencyOf, get, type Handler } from "./handler.ts";

export const createProduct: Handler = ({ state, params }) => {
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

export const createPrice: Handler = ({ state, params }) => {
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
export const updatePrice: Handler = ({ state, params, path }) => {
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
