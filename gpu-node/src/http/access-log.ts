import type { MiddlewareHandler } from "hono";

/** Probes and scrapes: every few seconds from the orchestrator and Prometheus, not requests anyone looks up. */
const QUIET = new Set(["/healthz", "/metrics"]);
const number = (v: string | null) => (v === null ? null : Number(v));

/**
 * One JSON line per request: the request id (the proxy's, from X-Request-Id, so the proxy's line for the same
 * request, which has the customer, joins on it), priority, status and error code, tokens and timings. The
 * synthesis figures are read back from the response's own X- headers, so the handler stays as it is.
 */
export function accessLog(options: {
  log: (line: Record<string, unknown>) => void;
  now?: () => number;
}): MiddlewareHandler<{ Variables: { requestId: string } }> {
  const now = options.now ?? (() => performance.now());
  return async function accessLogMiddleware(c, next) {
    const started = now();
    await next();
    const path = c.req.path;
    if (QUIET.has(path)) return;
    const h = c.res.headers;
    const error = c.error as { code?: unknown } | undefined;
    options.log({
      level: "info",
      msg: "request",
      request_id: c.get("requestId"),
      method: c.req.method,
      path,
      status: c.res.status,
      ...(error ? { code: typeof error.code === "string" ? error.code : "INTERNAL" } : {}),
      priority: c.req.header("x-priority") ?? null,
      semantic_tokens: number(h.get("x-semantic-tokens")),
      audio_ms: number(h.get("x-audio-duration-ms")),
      segments: number(h.get("x-segments")),
      batch_size: number(h.get("x-batch-size")),
      queue_wait_ms: number(h.get("x-queue-wait-ms")),
      compute_ms: number(h.get("x-compute-ms")),
      real_time_factor: number(h.get("x-real-time-factor")),
      duration_ms: Math.round((now() - started) * 10) / 10,
    });
  };
}
