import type { MiddlewareHandler } from "hono";
import { isProxyError } from "../core/errors.ts";
import type { ProxyEnv } from "./deps.ts";

/** What a metered route tells the access log (set with `c.set("usage", …)` once the row is committed). */
export interface RequestUsage {
  nodeId: string | null;
  tokens: number;
  amountMicros: number;
  currency: string;
  audioMs: number;
}

/** Probes and scrapes: every few seconds from the orchestrator and Prometheus, not requests anyone looks up. */
const QUIET = new Set(["/healthz", "/metrics"]);

/**
 * One JSON line per request: its id (the same id the gpu-node logs, as the proxy forwards it in X-Request-Id), the
 * customer and key, the node that served it, the status (and error code), tokens, amount and timings. Read from the
 * context after the handler, so routes only add `usage`; nothing here is on the response's path.
 */
export function accessLog(options: {
  log: (line: Record<string, unknown>) => void;
  now: () => number;
}): MiddlewareHandler<ProxyEnv> {
  return async function accessLogMiddleware(c, next) {
    await next();
    const path = c.req.path;
    if (QUIET.has(path)) return;
    const auth = c.get("auth");
    const usage = c.get("usage");
    const error = c.error;
    options.log({
      level: "info",
      msg: "request",
      request_id: c.get("requestId"),
      method: c.req.method,
      route: c.req.routePath,
      path,
      status: c.res.status,
      ...(isProxyError(error) ? { code: error.code } : error ? { code: "INTERNAL" } : {}),
      customer_id: auth?.customer.id ?? null,
      key_id: auth?.key.id ?? null,
      node: usage?.nodeId ?? null,
      tokens: usage?.tokens ?? 0,
      amount_micros: usage?.amountMicros ?? 0,
      currency: usage?.currency ?? null,
      audio_ms: usage?.audioMs ?? 0,
      duration_ms: options.now() - c.get("startedAt"),
    });
  };
}
