import type { Context, MiddlewareHandler } from "hono";
import { ProxyError } from "../core/errors.ts";
import { ipRateLimitKey } from "../core/rate-limit/client-ip.ts";
import { formatRateLimit, formatRateLimitPolicy } from "../core/rate-limit/headers.ts";
import type { RateLimitPolicy } from "../core/rate-limit/port.ts";
import { sha256Hex, timingSafeEqualHex } from "../store/crypto.ts";
import type { ProxyDeps, ProxyEnv } from "./deps.ts";
import { keyUseRecorder } from "./key-last-used.ts";
import { addListMember, applyResponseHeaders } from "./response-headers.ts";

const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * Every request gets a server-made id, echoed in X-Request-Id and in error bodies. It is the usage row's unique key,
 * so it is never taken from the caller: a caller who could choose it could replay an id already billed and be served
 * free (the ledger ignores a duplicate id). A well-formed caller id is echoed back as X-Client-Request-Id.
 *
 * It also starts the request's response headers (`c.var.responseHeaders`, a plain object): the middlewares below add
 * their fields to it before the handler runs, and the handler (or `onError`) puts all of them on its response in
 * one go. Headers set on a finished response would make the runtime rebuild it, on every request.
 */
export function requestId(deps: ProxyDeps): MiddlewareHandler<ProxyEnv> {
  const now = deps.now ?? Date.now;
  const make = deps.newRequestId ?? (() => newRequestId(now()));
  return async function requestIdMiddleware(c, next) {
    const id = make();
    const headers: Record<string, string> = { "x-request-id": id };
    const given = c.req.header("x-request-id");
    if (given && REQUEST_ID.test(given)) headers["x-client-request-id"] = given;
    c.set("requestId", id);
    c.set("startedAt", now());
    c.set("responseHeaders", headers);
    await next();
    // Responses built without them (admin, docs, metrics): the slow path, off the metered hot path.
    if (c.get("responseHeadersApplied") !== true) applyResponseHeaders(c.res.headers, headers);
  };
}

/**
 * `req_` + 32 hex digits: the time in ms (12 digits), then 80 random bits. Ids of later requests sort later, so the
 * ledger's unique index on request_id takes each new row at its end instead of at a random page (as with a UUIDv4).
 * Random bytes are drawn 256 ids at a time (one getRandomValues call) and written with a byte → hex table.
 */
export function newRequestId(atMs: number): string {
  if (randomAt >= RANDOM_POOL.length) {
    crypto.getRandomValues(RANDOM_POOL);
    randomAt = 0;
  }
  let id = `req_${Math.max(0, Math.floor(atMs)).toString(16).padStart(12, "0").slice(-12)}`;
  for (let i = 0; i < RANDOM_BYTES; i++) id += HEX[RANDOM_POOL[randomAt + i] as number];
  randomAt += RANDOM_BYTES;
  return id;
}

const RANDOM_BYTES = 10;
const RANDOM_POOL = new Uint8Array(RANDOM_BYTES * 256);
let randomAt = RANDOM_POOL.length;
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

/** Adds one policy's `RateLimit-Policy` and `RateLimit` members to the response headers. */
function reportPolicy(c: Context<ProxyEnv>, policyMember: string, resultMember: string): void {
  const headers = c.get("responseHeaders");
  addListMember(headers, "ratelimit-policy", policyMember);
  addListMember(headers, "ratelimit", resultMember);
}

/** Per client IP, before any key lookup (the article's "5 requests/s per IP", exact, trusted-proxy aware). */
export function ipRateLimit(deps: ProxyDeps): MiddlewareHandler<ProxyEnv> {
  const policy = deps.config.ipPolicy;
  const policyMember = formatRateLimitPolicy("ip", policy);
  return async function ipRateLimitMiddleware(c, next) {
    const ip = deps.clientIp({ remoteAddress: deps.remoteAddress(c), headers: c.req.raw.headers }) ?? "unknown";
    const result = await deps.rateLimiter.limit(ipRateLimitKey(ip), policy);
    reportPolicy(c, policyMember, formatRateLimit("ip", result));
    if (!result.allowed) {
      deps.metrics.rateLimited("ip");
      throw new ProxyError("RATE_LIMITED", `too many requests from ${ip}`, {
        retryAfterSeconds: result.retryAfterSeconds,
      });
    }
    await next();
  };
}

function presentedKey(authorization: string | undefined, apiKeyHeader: string | undefined): string | null {
  if (apiKeyHeader) return apiKeyHeader.trim();
  const m = /^Bearer\s+(.+)$/i.exec(authorization ?? "");
  return m?.[1]?.trim() ?? null;
}

/** `Authorization: Bearer <key>` or `x-api-key`: unknown or revoked → 401, suspended customer → 403. */
export function apiKeyAuth(deps: ProxyDeps): MiddlewareHandler<ProxyEnv> {
  const sha256 = deps.sha256 ?? sha256Hex;
  const markUsed = keyUseRecorder(deps.stores.keys, deps.now ?? Date.now, deps.log ?? (() => {}));
  return async function apiKeyAuthMiddleware(c, next) {
    const key = presentedKey(c.req.header("authorization"), c.req.header("x-api-key"));
    if (!key)
      throw new ProxyError("MISSING_API_KEY", "send your API key as 'Authorization: Bearer <key>' or 'x-api-key'");
    const hash = await sha256(key);
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
    markUsed(c, found.key.id);
    await next();
  };
}

/** The key's plan limits: requests/s with burst, and requests in flight. */
export function keyLimits(deps: ProxyDeps): MiddlewareHandler<ProxyEnv> {
  // Plans are few: their policy members are formatted once each.
  const policyMembers = new Map<string, string>();
  const memberOf = (policy: RateLimitPolicy): string => {
    const id = `${policy.ratePerSecond}/${policy.burst}`;
    let member = policyMembers.get(id);
    if (member === undefined) {
      member = formatRateLimitPolicy("key", policy);
      if (policyMembers.size > 1000) policyMembers.clear();
      policyMembers.set(id, member);
    }
    return member;
  };
  return async function keyLimitsMiddleware(c, next) {
    const { key, plan } = c.get("auth");
    const policy = { ratePerSecond: plan.requestsPerSecond, burst: plan.burst };
    const result = await deps.rateLimiter.limit(`key:${key.id}`, policy);
    reportPolicy(c, memberOf(policy), formatRateLimit("key", result));
    if (!result.allowed) {
      deps.metrics.rateLimited("key");
      throw new ProxyError("RATE_LIMITED", "the API key's request rate is over its plan's limit", {
        retryAfterSeconds: result.retryAfterSeconds,
      });
    }
    const permit = await deps.concurrency.acquire(`key:${key.id}`, plan.maxInFlight);
    if (!permit.allowed) {
      deps.metrics.rateLimited("in_flight");
      throw new ProxyError(
        "TOO_MANY_IN_FLIGHT",
        `at most ${plan.maxInFlight} requests in flight per key on this plan`,
        { retryAfterSeconds: 1 },
      );
    }
    let heldByStream = false;
    try {
      await next();
      // A streamed answer is still in flight after the handler returns: the permit goes with its body.
      const body = c.res.body;
      if (c.res.headers.get("x-streamed") === "true" && body) {
        heldByStream = true;
        c.res = new Response(
          releasedAtEnd(body, () => permit.release()),
          c.res,
        );
      }
    } finally {
      if (!heldByStream) await permit.release();
    }
  };
}

/**
 * `/metrics`: `Authorization: Bearer <token>` with the admin token or, when configured, the separate metrics token
 * (Prometheus' `authorization`/`bearer_token`), so a scraper need not hold admin rights. The page shows metered
 * revenue and per-node state: never public (issue 14 #9).
 */
export function metricsAuth(deps: ProxyDeps): MiddlewareHandler<ProxyEnv> {
  const sha256 = deps.sha256 ?? sha256Hex;
  const tokens = [deps.config.adminToken, deps.config.metricsToken].filter((t): t is string => !!t);
  const expected = Promise.all(tokens.map((t) => sha256(t)));
  return async function metricsAuthMiddleware(c, next) {
    const token = presentedKey(c.req.header("authorization"), undefined);
    const presented = token ? await sha256(token) : null;
    // Compare with every token (no early exit), each in constant time.
    const matches = presented ? (await expected).map((e) => timingSafeEqualHex(presented, e)) : [];
    if (!matches.includes(true)) {
      throw new ProxyError(
        "ADMIN_TOKEN_REQUIRED",
        "/metrics needs 'Authorization: Bearer <METRICS_TOKEN>' (or the ADMIN_TOKEN)",
        { headers: { "www-authenticate": 'Bearer realm="metrics"' } },
      );
    }
    await next();
  };
}

/** `body`, calling `release` once when it ends, fails or is cancelled by the client. */
function releasedAtEnd(body: ReadableStream<Uint8Array>, release: () => Promise<void>): ReadableStream<Uint8Array> {
  let released = false;
  const once = () => {
    if (released) return;
    released = true;
    void release().catch(() => {});
  };
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          once();
          controller.close();
        } else controller.enqueue(value);
      } catch (e) {
        once();
        controller.error(e);
      }
    },
    async cancel(reason) {
      once();
      await reader.cancel(reason);
    },
  });
}

/** The admin API: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. */
export function adminAuth(deps: ProxyDeps): MiddlewareHandler<ProxyEnv> {
  const sha256 = deps.sha256 ?? sha256Hex;
  const expected = Promise.resolve(sha256(deps.config.adminToken));
  return async function adminAuthMiddleware(c, next) {
    const token = presentedKey(c.req.header("authorization"), undefined);
    if (!token || !timingSafeEqualHex(await sha256(token), await expected)) {
      throw new ProxyError("ADMIN_TOKEN_REQUIRED", "the admin API needs 'Authorization: Bearer <ADMIN_TOKEN>'");
    }
    await next();
  };
}
