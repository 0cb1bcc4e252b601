import type { Context } from "hono";
import type { ProxyEnv } from "./deps.ts";

/**
 * The request's response headers live in a plain object (`c.var.responseHeaders`) until a response is built: the
 * metered routes and `onError` pass it whole to their `Response`, so the runtime writes it without building a
 * `Headers` (on Node, @hono/node-server then writes the object straight to the socket). Names are lowercase, so
 * merging objects never yields one field twice.
 */

/** Appends a member to a Structured-Fields list header (e.g. one more `RateLimit-Policy` policy). */
export function addListMember(headers: Record<string, string>, name: string, member: string): void {
  const existing = headers[name];
  headers[name] = existing === undefined ? member : `${existing}, ${member}`;
}

/** Sets every field on a `Headers` (the slow path, for responses built without them). */
export function applyResponseHeaders(target: Headers, headers: Record<string, string>): void {
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && !target.has(name)) target.set(name, value);
  }
}

/** The request's headers plus `extra` (which wins), and marks them as applied. */
export function takeResponseHeaders(c: Context<ProxyEnv>, extra: Record<string, string> = {}): Record<string, string> {
  c.set("responseHeadersApplied", true);
  return { ...(c.get("responseHeaders") ?? {}), ...extra };
}
