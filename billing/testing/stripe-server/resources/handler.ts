/** What every endpoint of the test server shares: its context, lookups and list options. */
import { invalid, missing } from "../errors.ts";
import type { Params } from "../params.ts";
import type { Json, StripeState } from "../state.ts";

/** What a handler knows about its request (for event `request` fields). */
export interface Ctx {
  state: StripeState;
  params: Params;
  path: Record<string, string>;
  request: { id: string | null; idempotencyKey: string | null };
}

export type Handler = (ctx: Ctx) => Json;

export const get = <T>(map: Map<string, T>, what: string, id: string, param = "id"): T => {
  const found = map.get(id);
  if (!found) throw missing(what, id, param);
  return found;
};

export const listOptions = (p: Params, url: string) => {
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

export const currencyOf = (p: Params, required: boolean) => {
  const c = p.string("currency", { required });
  if (c !== undefined && !/^[a-z]{3}$/.test(c)) throw invalid(`Invalid currency: ${c}`, "currency");
  return c;
};
