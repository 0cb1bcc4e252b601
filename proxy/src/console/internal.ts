import type { Hono } from "hono";
import type { ProxyEnv } from "../http/deps.ts";
import { markRequestSource } from "../http/request-source.ts";
import type { UsageSource } from "../store/ports.ts";
import type { ConsoleContext } from "./env.ts";

/** Headers the client-IP resolver may read (trusted proxies): an internal call is limited as its caller is. */
const FORWARDED = ["x-forwarded-for", "x-real-ip", "cf-connecting-ip", "forwarded"];

/**
 * Calls the app's own API on the signed-in user's behalf (`authorization: Bearer <key or admin token>`), so a console
 * action is exactly the API call: the same validation, limits, billing hooks and metering. The runtime bindings of
 * the page request are passed on (on Node the socket, hence the client address; on Workers env and ctx).
 */
export async function callApi(
  app: Hono<ProxyEnv>,
  c: ConsoleContext,
  credential: string,
  method: string,
  path: string,
  body?: unknown,
  source?: UsageSource,
): Promise<{ status: number; json: Record<string, unknown> | null; response: Response }> {
  const headers = new Headers({ authorization: `Bearer ${credential}` });
  for (const name of FORWARDED) {
    const value = c.req.header(name);
    if (value !== undefined) headers.set(name, value);
  }
  if (body !== undefined) headers.set("content-type", "application/json");
  let ctx: ConsoleContext["executionCtx"] | undefined;
  try {
    ctx = c.executionCtx;
  } catch {
    ctx = undefined; // Node: no execution context
  }
  const url = new URL(path, c.req.url);
  const request = new Request(url, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  // A playground request is metered like any other; its usage row says where it came from.
  if (source !== undefined) markRequestSource(request, source);
  const response = await app.fetch(request, c.env, ctx);
  const type = response.headers.get("content-type") ?? "";
  const json = type.startsWith("application/json")
    ? ((await response.clone().json()) as Record<string, unknown>)
    : null;
  return { status: response.status, json, response };
}

/** The message of an API error answer, for a flash line. */
export function apiError(json: Record<string, unknown> | null, fallback: string): string {
  const error = json?.error as { code?: string; message?: string } | undefined;
  return error?.message ? `${error.message} (${error.code})` : fallback;
}
