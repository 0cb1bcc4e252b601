import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { RateLimiter, RateLimitPolicy } from "../core/rate-limit/port.ts";
import type { ConsoleEnv } from "./env.ts";
import { randomToken } from "./session.ts";

/**
 * Response headers of every console page: a strict Content-Security-Policy whose only inline style and script are
 * the ones carrying this response's nonce (so markup injected through a customer's name cannot run or restyle), no
 * framing, no caching of pages that show account data.
 */
export function consoleHeaders(): MiddlewareHandler<ConsoleEnv> {
  return async function consoleHeadersMiddleware(c, next) {
    const nonce = randomToken(16);
    c.set("nonce", nonce);
    await next();
    const h = c.res.headers;
    h.set(
      "content-security-policy",
      [
        "default-src 'none'",
        `script-src 'nonce-${nonce}'`,
        `style-src 'nonce-${nonce}'`,
        "img-src 'self' data:",
        "media-src 'self' data: blob:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
      ].join("; "),
    );
    h.set("x-frame-options", "DENY");
    h.set("x-content-type-options", "nosniff");
    h.set("referrer-policy", "same-origin");
    h.set("cache-control", "no-store");
  };
}

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Secure everywhere but plain-HTTP development on this machine (browsers drop Secure cookies over http). */
export const secureCookies = (c: Context): boolean => !LOCAL_HOSTS.has(new URL(c.req.url).hostname);

export function setSessionCookie(c: Context, name: string, path: string, value: string, maxAgeMs: number): void {
  setCookie(c, name, value, {
    path,
    httpOnly: true,
    secure: secureCookies(c),
    sameSite: "Strict",
    maxAge: Math.max(1, Math.floor(maxAgeMs / 1000)),
  });
}

export function clearCookie(c: Context, name: string, path: string): void {
  deleteCookie(c, name, { path, secure: secureCookies(c), httpOnly: true, sameSite: "Strict" });
}

export const readCookie = (c: Context, name: string): string | undefined => getCookie(c, name);

/**
 * A state-changing request from another origin is refused before its CSRF token is even read (defence in depth:
 * SameSite=Strict cookies already keep them out of cross-site requests in current browsers).
 */
export function sameOrigin(c: Context): boolean {
  const origin = c.req.header("origin");
  if (!origin || origin === "null") return origin === undefined;
  return origin === new URL(c.req.url).origin;
}

/** Sign-in attempts per client IP: 5 at once, then one every 12 s (a key or token cannot be guessed online). */
export const DEFAULT_SIGN_IN_POLICY: RateLimitPolicy = { ratePerSecond: 1 / 12, burst: 5 };

export async function signInAllowed(
  limiter: RateLimiter,
  policy: RateLimitPolicy,
  scope: string,
  ip: string,
): Promise<{ allowed: boolean; retryAfterSeconds: number }> {
  const r = await limiter.limit(`console-sign-in:${scope}:${ip}`, policy);
  return { allowed: r.allowed, retryAfterSeconds: Math.max(1, Math.ceil(r.retryAfterSeconds)) };
}

/** Form fields as strings (a repeated or file field counts as absent). */
export async function formFields(c: Context): Promise<Record<string, string>> {
  const type = c.req.header("content-type") ?? "";
  if (!type.startsWith("application/x-www-form-urlencoded") && !type.startsWith("multipart/form-data")) return {};
  const body = await c.req.parseBody();
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === "string") out[k] = v;
  return out;
}
