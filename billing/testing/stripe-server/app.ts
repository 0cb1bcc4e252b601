import { Hono } from "hono";
import { StripeApiError } from "./errors.ts";
import { canonical, FormError, type FormObject, parseForm } from "./form.ts";
import { Params } from "./params.ts";
import { type Ctx, routes } from "./resources.ts";
import { signPayload } from "./signing.ts";
import { type Json, newId, type StripeEvent, StripeState } from "./state.ts";

export interface StripeTestServerOptions {
  /** Injected clock (ms); object timestamps and webhook signatures use it. */
  now?: () => number;
  apiVersion?: string;
  /** Where signed events are POSTed (`deliverEvents`), like a webhook endpoint in the Dashboard. */
  webhook?: { url: string; secret: string };
}

/** One API request as the server saw it, for assertions ("a re-run created nothing"). */
export interface LoggedRequest {
  method: string;
  path: string;
  status: number;
  idempotencyKey: string | null;
  /** The stored response of an earlier request with the same key was returned. */
  replayed: boolean;
}

interface StoredResult {
  method: string;
  path: string;
  params: string;
  status: number;
  body: string;
  requestId: string;
}

/** Errors a request is refused with before the endpoint runs: Stripe saves no idempotent result for them. */
const isValidationError = (e: StripeApiError) =>
  e.status === 404 ||
  ["parameter_missing", "parameter_invalid", "parameter_unknown", "url_invalid"].includes(e.code ?? "");

/**
 * A Stripe-compatible API for the endpoints billing uses, with Stripe's semantics where billing depends on them:
 * ids, object shapes, list pagination, v1 idempotency (same key and parameters → the stored response, replayed
 * with `Idempotent-Replayed: true`; the same key with other parameters or another endpoint → 400
 * `idempotency_error`; nothing stored when validation fails), pending invoice items (excluded unless
 * `pending_invoice_items_behavior=include`), draft-only edits, finalisation and payment, subscriptions and their
 * first invoice, billing portal sessions, and events delivered to a webhook endpoint, signed as Stripe signs them.
 */
export function createStripeTestServer(options: StripeTestServerOptions = {}) {
  const now = options.now ?? Date.now;
  let baseUrl = "http://127.0.0.1";
  let webhook = options.webhook ?? null;
  const pending: StripeEvent[] = [];
  const deliveries: { eventId: string; type: string; status: number }[] = [];
  const state = new StripeState(
    now,
    options.apiVersion ?? "2026-10-28.endive",
    () => baseUrl,
    (e) => {
      pending.push(e);
    },
  );
  const idempotency = new Map<string, StoredResult>();
  const requests: LoggedRequest[] = [];
  /** Test-only: make the next N requests to a path fail with a 500 after doing their work (a lost response). */
  const faults: { method: string; path: RegExp; remaining: number; beforeWork: boolean }[] = [];

  const app = new Hono();
  const reply = (status: number, body: Json, headers: Record<string, string>) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json", ...headers },
    });

  for (const route of routes) {
    app.on(route.method, route.path, async (c) => {
      const requestId = newId("req", 14);
      const method = c.req.method;
      const path = new URL(c.req.url).pathname;
      const key = method === "POST" ? (c.req.header("idempotency-key") ?? null) : null;
      const log = (status: number, replayed = false) =>
        requests.push({ method, path, status, idempotencyKey: key, replayed });
      const headers = { "request-id": requestId };
      const auth = c.req.header("authorization") ?? "";
      if (!/^Bearer sk_test_\w+$/.test(auth)) {
        log(401);
        return reply(
          401,
          new StripeApiError(401, "invalid_request_error", "Invalid API Key provided.").body(),
          headers,
        );
      }
      let raw: FormObject;
      try {
        raw =
          method === "GET" || method === "DELETE"
            ? parseForm(new URL(c.req.url).search.slice(1))
            : parseForm(await c.req.text());
      } catch (e) {
        log(400);
        const message = e instanceof FormError ? e.message : "Invalid request body";
        return reply(400, new StripeApiError(400, "invalid_request_error", message).body(), headers);
      }
      const fingerprint = canonical(raw);
      if (key) {
        if (key.length > 255) {
          log(400);
          return reply(
            400,
            new StripeApiError(400, "invalid_request_error", "Idempotency keys are at most 255 characters").body(),
            headers,
          );
        }
        const stored = idempotency.get(key);
        if (stored) {
          if (stored.method !== method || stored.path !== path || stored.params !== fingerprint) {
            log(400);
            const error = new StripeApiError(
              400,
              "idempotency_error",
              `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
            );
            return reply(400, error.body(), { ...headers, "stripe-should-retry": "false" });
          }
          log(stored.status, true);
          return new Response(stored.body, {
            status: stored.status,
            headers: {
              "content-type": "application/json",
              ...headers,
              "idempotent-replayed": "true",
              "original-request": stored.requestId,
            },
          });
        }
      }
      const fault = faults.find((f) => f.remaining > 0 && f.method === method && f.path.test(path));
      if (fault?.beforeWork) {
        fault.remaining--;
        log(500);
        return reply(500, new StripeApiError(500, "api_error", "Injected fault before work").body(), headers);
      }
      const ctx: Ctx = {
        state,
        params: new Params(raw),
        path: c.req.param() as Record<string, string>,
        request: { id: requestId, idempotencyKey: key },
      };
      let status = 200;
      let body: Json;
      try {
        body = route.handler(ctx);
      } catch (e) {
        if (!(e instanceof StripeApiError)) throw e;
        status = e.status;
        body = e.body();
        if (isValidationError(e)) {
          log(status);
          return reply(status, body, { ...headers, "stripe-should-retry": "false" });
        }
      }
      const text = JSON.stringify(body);
      if (key) idempotency.set(key, { method, path, params: fingerprint, status, body: text, requestId });
      if (fault && !fault.beforeWork) {
        // The work is done and its result saved under the key, but the client never sees it.
        fault.remaining--;
        log(500);
        return reply(500, new StripeApiError(500, "api_error", "Injected fault after work").body(), headers);
      }
      log(status);
      return new Response(text, {
        status,
        headers: {
          "content-type": "application/json",
          ...headers,
          ...(status >= 400 ? { "stripe-should-retry": "false" } : {}),
        },
      });
    });
  }
  app.notFound((c) =>
    reply(
      404,
      new StripeApiError(
        404,
        "invalid_request_error",
        `Unrecognized request URL (${c.req.method}: ${new URL(c.req.url).pathname}).`,
      ).body(),
      {},
    ),
  );

  /** POSTs every pending event to the webhook endpoint, signed; events the endpoint did not 2xx stay pending. */
  async function deliverEvents(): Promise<{ eventId: string; type: string; status: number }[]> {
    if (!webhook) throw new Error("no webhook endpoint configured");
    const results: { eventId: string; type: string; status: number }[] = [];
    const queue = pending.splice(0, pending.length);
    for (const event of queue) {
      const result = { eventId: event.id, type: event.type, status: await sendEvent(event) };
      results.push(result);
      deliveries.push(result);
      if (result.status < 200 || result.status >= 300) pending.push(event);
    }
    return results;
  }

  /** One signed delivery of an event (a retry of an already delivered one too, as Stripe does). */
  async function sendEvent(event: StripeEvent, overrides: { timestampSeconds?: number; secret?: string } = {}) {
    if (!webhook) throw new Error("no webhook endpoint configured");
    const payload = JSON.stringify(event, null, 2);
    const t = overrides.timestampSeconds ?? Math.floor(now() / 1000);
    const signature = await signPayload(payload, overrides.secret ?? webhook.secret, t);
    const res = await fetch(webhook.url, {
      method: "POST",
      headers: { "content-type": "application/json; charset=utf-8", "stripe-signature": `t=${t},v1=${signature}` },
      body: payload,
    });
    await res.arrayBuffer();
    return res.status;
  }

  return {
    app,
    state,
    requests,
    deliveries,
    pendingEvents: pending,
    setBaseUrl(url: string) {
      baseUrl = url;
    },
    setWebhook(endpoint: { url: string; secret: string } | null) {
      webhook = endpoint;
    },
    deliverEvents,
    sendEvent,
    /** Forgets every idempotency key, as Stripe does after ≥ 24 h. */
    pruneIdempotencyKeys() {
      idempotency.clear();
    },
    /** Test-only fault: the next `times` matching requests answer 500, before or after doing their work. */
    injectFault(method: string, path: RegExp, options: { times?: number; beforeWork?: boolean } = {}) {
      faults.push({ method, path, remaining: options.times ?? 1, beforeWork: options.beforeWork ?? false });
    },
    /** How the next payment attempts of a customer go. */
    setPaymentOutcome(customerId: string, outcome: "succeed" | "fail") {
      state.paymentOutcome.set(customerId, outcome);
    },
    /** Requests that created or changed something (POST/DELETE answered 2xx, not replays). */
    mutations(): LoggedRequest[] {
      return requests.filter((r) => r.method !== "GET" && r.status < 300 && !r.replayed);
    },
  };
}

export type StripeTestServer = ReturnType<typeof createStripeTestServer>;
