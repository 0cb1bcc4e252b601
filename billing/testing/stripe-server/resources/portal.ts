/** Billing portal sessions. */
import { invalid } from "../errors.ts";
import { newId } from "../state.ts";
import { get, type Handler } from "./handler.ts";

export const createPortalSession: Handler = ({ state, params }) => {
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
