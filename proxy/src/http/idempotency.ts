import type { Context } from "hono";
import { ProxyError } from "../core/errors.ts";
import { sha256Hex } from "../store/crypto.ts";
import type { IdempotencyBegin } from "../store/ports.ts";
import type { ProxyDeps } from "./deps.ts";

/**
 * `Idempotency-Key`, the same on every endpoint that takes it (POST /v1/tts, /v1/audio/speech, /v1/jobs): one key
 * names one request of the customer, remembered in `stores.idempotency` with a fingerprint of the request. A retry
 * with the same key and the same request gets the original answer; with another request (another body, or another
 * endpoint) 422 `IDEMPOTENCY_KEY_REUSED`; while the original is still running 409 `IDEMPOTENCY_KEY_IN_USE`.
 */

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The request's key, or undefined without one; 400 for a malformed one. */
export function idempotencyKeyOf(c: Context): string | undefined {
  const key = c.req.header("idempotency-key");
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    throw new ProxyError("INVALID_REQUEST", "Idempotency-Key must be 1–255 printable ASCII characters");
  }
  return key;
}

/**
 * The fingerprint stored with the key: SHA-256 of the endpoint and the request as the handler understood it (after
 * defaults and voice names are resolved), so a retry that spells the same request differently still matches, while
 * the same key on another endpoint (the matched route, e.g. `/v1/tts` vs `/v1/audio/speech`) is a 422: one key
 * names one request of one endpoint.
 */
export function requestFingerprint(deps: ProxyDeps, c: Context, request: unknown): string | Promise<string> {
  return (deps.sha256 ?? sha256Hex)(JSON.stringify({ endpoint: `${c.req.method} ${c.req.routePath}`, request }));
}

/** The error for a key that cannot start a request now: used with another request, or that request still running. */
export function idempotencyConflict(state: Exclude<IdempotencyBegin["state"], "new" | "done">): ProxyError {
  return state === "mismatch"
    ? new ProxyError("IDEMPOTENCY_KEY_REUSED", "this Idempotency-Key was used with a different request")
    : new ProxyError("IDEMPOTENCY_KEY_IN_USE", "a request with this Idempotency-Key is still running", {
        retryAfterSeconds: 1,
      });
}
