import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { registerConsoles } from "./console/index.ts";
import { isProxyError, ProxyError } from "./core/errors.ts";
import { accessLog } from "./http/access-log.ts";
import { bodySizeLimit } from "./http/body.ts";
import type { ProxyDeps, ProxyEnv } from "./http/deps.ts";
import { adminAuth, apiKeyAuth, ipRateLimit, keyLimits, metricsAuth, requestId } from "./http/middleware.ts";
import { takeResponseHeaders } from "./http/response-headers.ts";
import { registerAccountRoutes } from "./http/routes/account.ts";
import { registerAdminRoutes } from "./http/routes/admin.ts";
import { registerBillingAdminRoutes, registerBillingRoutes } from "./http/routes/billing.ts";
import { registerDocsRoutes } from "./http/routes/docs.tsx";
import { registerJobRoutes } from "./http/routes/jobs.ts";
import { registerKeyRoutes } from "./http/routes/keys.ts";
import { registerSpeechRoutes } from "./http/routes/speech.ts";
import { registerStripeWebhookRoute } from "./http/routes/stripe-webhook.ts";
import { jobStateCounts } from "./jobs/metrics.ts";

/**
 * The metered proxy. One app for every runtime: the Node entry and the Workers entry only build `deps`.
 *
 * Order of the customer pipeline: request id → per-IP limit → API key → per-key rate and in-flight limits →
 * route, verify, meter durably → respond.
 */
export function createApp(deps: ProxyDeps): Hono<ProxyEnv> {
  const app = new Hono<ProxyEnv>();
  const log = deps.log ?? (() => {});
  const limitBody = bodySizeLimit(deps.config.maxBodyBytes);

  app.use(requestId(deps));
  if (deps.log) app.use(accessLog({ log: deps.log, now: deps.now ?? Date.now }));
  app.use(async (c, next) => {
    await next();
    deps.metrics.request(c.req.routePath, c.res.status, ((deps.now ?? Date.now)() - c.get("startedAt")) / 1000);
  });

  app.get("/healthz", (c) => {
    const nodes = deps.nodes.list();
    const routable = nodes.filter((n) => n.up && !n.draining && deps.breakers.canRoute(n.id)).length;
    return c.json({ status: "ok", nodes: nodes.length, routable_nodes: routable });
  });
  // Revenue and per-node state: the admin token or the metrics token (issue 14 #9).
  app.use("/metrics", metricsAuth(deps));
  app.get("/metrics", async (c) => {
    if (deps.jobs && deps.metrics.jobStates) {
      try {
        deps.metrics.jobStates(await jobStateCounts(deps.jobs.store, deps.stores.customers));
      } catch (e) {
        // The rest of the metrics still render: the job gauges keep their last values.
        log({ level: "error", msg: "metrics: job states unreadable", error: String(e) });
      }
    }
    const { contentType, body } = await deps.metrics.render();
    return c.body(body, 200, { "content-type": contentType });
  });
  // The API reference: public, outside /v1 and /admin (no key, no rate limit).
  registerDocsRoutes(app, deps);
  // The web consoles (/console, /admin/console): their own sessions, before the /admin/* bearer-token middleware.
  registerConsoles(app, deps);
  // Stripe → us: public, authenticated by its signature (no key, no rate limit: Stripe retries).
  registerStripeWebhookRoute(app, deps);
  // Before the /v1 middleware: the portal admits suspended customers (it is where they pay).
  registerBillingRoutes(app, deps);

  app.use("/v1/*", ipRateLimit(deps), apiKeyAuth(deps), keyLimits(deps));
  // Before the 64 KiB cap: a job (many items, or one long text) has its own, larger one.
  if (deps.jobs) registerJobRoutes(app, deps, deps.jobs);
  app.use("/v1/*", limitBody);
  registerSpeechRoutes(app, deps);
  registerAccountRoutes(app, deps);
  registerKeyRoutes(app, deps);

  app.use("/admin/*", adminAuth(deps), limitBody);
  // Before the admin routes: its price and customer hooks wrap theirs.
  registerBillingAdminRoutes(app, deps);
  registerAdminRoutes(app, deps);

  app.notFound((c) => {
    throw new ProxyError("NOT_FOUND", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`);
  });

  app.onError((err, c) => {
    const id = c.get("requestId") ?? "unknown";
    const error = toProxyError(err);
    if (error.status >= 500 && error.code !== "NO_CAPACITY")
      log({ level: "error", request_id: id, code: error.code, error: String(err) });
    else if (error.code === "CLIENT_CLOSED")
      log({ level: "info", request_id: id, code: error.code, msg: error.message });
    const headers = takeResponseHeaders(c, { ...error.options.headers, "x-request-id": id });
    if (error.options.retryAfterSeconds !== undefined)
      headers["retry-after"] = String(Math.max(1, Math.ceil(error.options.retryAfterSeconds)));
    const body = {
      error: {
        // OpenAI's shape (its SDKs read message, type, param, code), with our stable code and the request id.
        message: error.message,
        type: openAiErrorType(error.status),
        param: paramOf(error.options.details),
        code: error.code,
        request_id: id,
        ...(error.options.details !== undefined ? { details: error.options.details } : {}),
      },
    };
    // A plain Response with a plain header object: 429s are answered at flood rates, so this path stays cheap too.
    return new Response(JSON.stringify(body), {
      status: error.status,
      headers: { ...headers, "content-type": "application/json" },
    });
  });
  return app;
}

/** OpenAI's error `type` for a status. */
function openAiErrorType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

const paramOf = (details: unknown): string | null =>
  typeof details === "object" && details !== null && typeof (details as { param?: unknown }).param === "string"
    ? (details as { param: string }).param
    : typeof details === "object" && details !== null && typeof (details as { field?: unknown }).field === "string"
      ? (details as { field: string }).field
      : null;

function toProxyError(err: unknown): ProxyError {
  if (isProxyError(err)) return err;
  if (err instanceof HTTPException && err.status === 413) return new ProxyError("PAYLOAD_TOO_LARGE", err.message);
  if (err instanceof HTTPException && err.status < 500) return new ProxyError("INVALID_REQUEST", err.message);
  return new ProxyError("INTERNAL", "internal error");
}
