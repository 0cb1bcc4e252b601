import type { MiddlewareHandler } from "hono";
import { ProxyError } from "../core/errors.ts";
import { ipRateLimitKey } from "../core/rate-limit/client-ip.ts";
import { rateLimitHeaders } from "../core/rate-limit/headers.ts";
import { sha256Hex, timingSafeEqualHex } from "../store/crypto.ts";
import type { ProxyDeps, ProxyEnv } from "./deps.ts";

const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * Every request gets a server-made id, echoed in X-Request-Id and in error bodies. It is the usage row's unique key,
 * so it is never taken from the caller: a caller who could choose it could replay an id already billed and be served
 * free (the ledger ignores a duplicate id). A well-formed caller id is echoed back as X-Client-Request-Id.
 */
export function requestId(deps: ProxyDeps): MiddlewareHandler<ProxyEnv> {
  const make = deps.newRequestId ?? (() => `req_${crypto.randomUUID().replaceAll("-", "")}`);
  return async function requestIdMiddleware(c, next) {
    const id = make();
    c.set("requestId", id);
    c.set("startedAt", (deps.now ?? Date.now)());
    await next();
    // An idempotent replay carries the id of the request it replays (the one its usage was metered under).
    if (!c.res.headers.has("X-Request-Id")) c.header("X-Request-Id", id);
    const given = c.req.header("x-request-id");
    if (given && REQUEST_ID.test(given)) c.header("X-Client-Request-Id", given);
  };
}

/** Per client IP, before any key lookup (the article's "5 requests/s per IP", exact, trusted-proxy aware). */
export function ipRateLimit(deps: ProxyDeps): MiddlewareHandler<ProxyEnv> {
  return async function ipRateLimitMiddleware(c, next) {
    const ip = deps.clientIp({ remoteAddress: deps.remoteAddress(c), headers: c.req.raw.headers }) ?? "unknown";
    const policy = deps.config.ipPolicy;
    const result = await deps.rateLimiter.limit(`ip:${ipRateLimitKey(ip)}`, policy);
    const headers = rateLimitHeaders([{ name: "ip", policy, result }]);
    if (!result.allowed) {
      deps.metrics.rateLimited("ip");
      throw new ProxyError("RATE_LIMITED", `too many requests from ${ip}`, {
        retryAfterSeconds: result.retryAfterSeconds,
        headers,
      });
    }
    await next();
    // Both policies are reported: the key's (set downstream) and this one, as list members of the same fields.
    for (const [k, v] of Object.entries(headers)) {
      if (k.toLowerCase() === "retry-after") continue;
      const existing = c.res.headers.get(k);
      c.header(k, existing ? `${v}, ${existing}` : v);
    }
  };
}

function presentedKey(authorization: string | undefined, apiKeyHeader: string | undefined): string | null {
  if (apiKeyHeader) return apiKeyHeader.trim();
  const m = /^Bearer\s+(.+)$/i.exec(authorization ?? "");
  return m?.[1]?.trim() ?? null;
}

/** `Authorization: Bearer <key>` or `x-api-key`: unknown or revoked → 401, suspended customer → 403. */
export function apiKeyAuth(deps: ProxyDeps): MiddlewareHandler<ProxyEnv> {
  return async function apiKeyAuthMiddleware(c, next) {
    const key = presentedKey(c.req.header("authorization"), c.req.header("x-api-key"));
    if (!key)
      throw new ProxyError("MISSING_API_KEY", "send your API key as 'Authorization: Bearer <key>' or 'x-api-key'");
    const hash = await sha256Hex(key);
    const found = await deps.stores.keys.findActiveByHash(hash);
    // The store looks the hash up by index; compare again in constant time so no timing tells how much matched.
    if (!found || !timingSafeEqualHex(found.key.hash, hash)) {
      throw new ProxyError("INVALID_API_KEY", "the API key is unknown or revoked");
    }
    if (found.customer.status === "suspended") {
      throw new ProxyError(
        "CUSTOMER_SUSPENDED",
        `the account is suspended${found.customer.suspendedReason ? `: ${found.customer.suspendedReason}` : ""}`,
      );
    }
    c.set("auth", found);
    await next();
  };
}

/** The key's plan limits: requests/s with burst, and requests in flight. */
export function keyLimits(deps: ProxyDeps): MiddlewareHandler<ProxyEnv> {
  return async function keyLimitsMiddleware(c, next) {
    const { key, plan } = c.get("auth");
    const policy = { ratePerSecond: plan.requestsPerSecond, burst: plan.burst };
    const result = await deps.rateLimiter.limit(`key:${key.id}`, policy);
    const headers = rateLimitHeaders([{ name: "key", policy, result }]);
    if (!result.allowed) {
      deps.metrics.rateLimited("key");
      throw new ProxyError("RATE_LIMITED", "the API key's request rate is over its plan's limit", {
        retryAfterSeconds: result.retryAfterSeconds,
        headers,
      });
    }
    const permit = await deps.concurrency.acquire(`key:${key.id}`, plan.maxInFlight);
    if (!permit.allowed) {
      deps.metrics.rateLimited("in_flight");
      throw new ProxyError(
        "TOO_MANY_IN_FLIGHT",
        `at most ${plan.maxInFlight} requests in flight per key on this plan`,
        {
          retryAfterSeconds: 1,
          headers,
        },
      );
    }
    try {
      await next();
    } finally {
      await permit.release();
    }
    for (const [k, v] of Object.entries(headers)) c.header(k, v);
  };
}

/** The admin API: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. */
export function adminAuth(deps: ProxyDeps): MiddlewareHandler<ProxyEnv> {
  const expected = sha256Hex(deps.config.adminToken);
  return async function adminAuthMiddleware(c, next) {
    const token = presentedKey(c.req.header("authorization"), undefined);
    if (!token || !timingSafeEqualHex(await sha256Hex(token), await expected)) {
      throw new ProxyError("ADMIN_TOKEN_REQUIRED", "the admin API needs 'Authorization: Bearer <ADMIN_TOKEN>'");
    }
    await next();
  };
}
