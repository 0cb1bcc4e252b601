import type { ConcurrencyPermit, RateLimitPolicy, RateLimitResult } from "./port.ts";

/**
 * Rate-limit response fields per draft-ietf-httpapi-ratelimit-headers-11 (May 2026, the latest revision; source
 * ietf-wg-httpapi/ratelimit-headers, draft-ietf-httpapi-ratelimit-headers-11/draft-ietf-httpapi-ratelimit-headers.txt):
 *
 * - §3 `RateLimit-Policy`: a Structured-Fields List of quota policies; each Item is a String (the policy name) with
 *   parameters `q` (quota, non-negative Integer, REQUIRED), `qu` (quota unit String, default "requests"), `w` (window,
 *   positive Integer seconds) and `pk` (partition key, Byte Sequence). Example: `"default";q=100;w=10`.
 * - §4 `RateLimit`: a List of service-limit Items, the same policy name with `r` (available quota, REQUIRED) and `t`
 *   (effective window, non-negative Integer seconds). Example: `"default";r=50;t=30`.
 *
 * The older `RateLimit-Limit`/`-Remaining`/`-Reset` trio (drafts ≤ 06) is not emitted. We leave out `pk`: the
 * partition key would be the client's IP or key id, which the client already knows and logs should not repeat.
 *
 * Mapping a GCRA policy onto q/w: `burst` units per ⌈burst / rate⌉ s. A client sending `q` every `w` seconds is
 * always admitted (the bucket refills within `w`), so the advertised policy is honest; `{rate 5, burst 5}` gives
 * `"ip";q=5;w=1`. `t` is the time until the bucket is full again, and §4.1.2 warns clients not to assume more.
 */

/** §3.1.2: the registered quota units. */
export type QuotaUnit = "requests" | "content-bytes" | "concurrent-requests";

export interface RateLimitHeaderEntry {
  /** the policy name, e.g. "ip" or "key"; printable ASCII */
  name: string;
  policy: RateLimitPolicy;
  result: RateLimitResult;
  quotaUnit?: QuotaUnit;
}

/** An sf-string (RFC 9651 §3.3.3): printable ASCII, with `"` and `\` escaped. Bad names are configuration bugs. */
function sfString(value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value)) throw new RangeError(`rate-limit policy name must be printable ASCII: ${value}`);
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The `w` parameter for a policy: whole seconds for `burst` units to come back, at least 1. */
export function policyWindowSeconds(policy: RateLimitPolicy): number {
  return Math.max(1, Math.ceil(policy.burst / policy.ratePerSecond - 1e-9));
}

/** One `RateLimit-Policy` member, e.g. `"ip";q=5;w=1`. */
export function formatRateLimitPolicy(name: string, policy: RateLimitPolicy, quotaUnit?: QuotaUnit): string {
  const unit = quotaUnit && quotaUnit !== "requests" ? `;qu=${sfString(quotaUnit)}` : "";
  return `${sfString(name)};q=${policy.burst}${unit};w=${policyWindowSeconds(policy)}`;
}

/** One `RateLimit` member, e.g. `"ip";r=4;t=1`. */
export function formatRateLimit(name: string, result: RateLimitResult): string {
  return `${sfString(name)};r=${result.remaining};t=${result.resetSeconds}`;
}

/** `Retry-After` as delay-seconds (RFC 9110 §10.2.3): a whole number, at least 1 for a refusal. */
export function formatRetryAfter(seconds: number): string {
  return String(Math.max(1, Math.ceil(seconds)));
}

/**
 * All rate-limit fields for a response, from every policy the request was checked against (e.g. per-IP and per-key).
 * `Retry-After` is added when any policy refused, with the longest wait: retrying earlier would be refused again.
 *
 * @example
 * rateLimitHeaders([{ name: "ip", policy: ipPolicy, result: ipResult }, { name: "key", policy, result }])
 * // { "RateLimit-Policy": '"ip";q=10;w=2, "key";q=60;w=60', "RateLimit": '"ip";r=9;t=1, "key";r=0;t=60',
 * //   "Retry-After": "1" }
 */
export function rateLimitHeaders(entries: readonly RateLimitHeaderEntry[]): Record<string, string> {
  if (entries.length === 0) return {};
  const headers: Record<string, string> = {
    "RateLimit-Policy": entries.map((e) => formatRateLimitPolicy(e.name, e.policy, e.quotaUnit)).join(", "),
    RateLimit: entries.map((e) => formatRateLimit(e.name, e.result)).join(", "),
  };
  const waits = entries.filter((e) => !e.result.allowed).map((e) => e.result.retryAfterSeconds);
  if (waits.length > 0) headers["Retry-After"] = formatRetryAfter(Math.max(...waits));
  return headers;
}

/**
 * Fields for a concurrency limit (draft §B.1.3 "Use for limiting concurrency"): `qu="concurrent-requests"`, no
 * window. Merge with `rateLimitHeaders` output by joining the lists with ", " if both apply.
 */
export function concurrencyHeaders(name: string, permit: Pick<ConcurrencyPermit, "limit" | "inFlight">) {
  return {
    "RateLimit-Policy": `${sfString(name)};q=${permit.limit};qu="concurrent-requests"`,
    RateLimit: `${sfString(name)};r=${Math.max(0, permit.limit - permit.inFlight)}`,
  };
}
