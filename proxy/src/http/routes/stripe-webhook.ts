import type { Hono } from "hono";
import { ProxyError } from "../../core/errors.ts";
import type { ProxyDeps, ProxyEnv } from "../deps.ts";
import { billing } from "./billing.ts";
import { rawBody } from "./raw-body.ts";

/** Stripe's event payloads are a few kB; a megabyte is generous and still bounded. */
const MAX_WEBHOOK_BYTES = 1024 * 1024;

/**
 * `POST /stripe/webhook`: Stripe → us. Public (no key, no rate limit: Stripe retries), authenticated by the
 * `Stripe-Signature` over the raw body (STRIPE_WEBHOOK_SECRET, 300 s tolerance). 400 STRIPE_SIGNATURE_INVALID for a
 * forged, stale or future (beyond the tolerance) signature (logged); 400 INVALID_JSON / WEBHOOK_EVENT_INVALID for a
 * validly signed body that is not an event we can process (never a 500); 200 for an event processed now, processed before (`duplicate`), or about an
 * object we do not know (logged); 409 while a parallel delivery of the same event is being processed.
 */
export function registerStripeWebhookRoute(app: Hono<ProxyEnv>, deps: ProxyDeps): void {
  app.post("/stripe/webhook", async (c) => {
    const raw = await rawBody(c.req.raw, MAX_WEBHOOK_BYTES);
    const outcome = await billing(deps, (b) => b.handleWebhook(raw, c.req.header("stripe-signature") ?? null));
    if (outcome.status === 409) throw new ProxyError("CONFLICT", "this event is being processed; retry later");
    return c.json(outcome.body, 200);
  });
}
