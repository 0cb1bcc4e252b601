/**
 * Job callbacks: when a job finishes, its callback URL gets a POST of the job (as GET /v1/jobs/{id} shows it, without
 * items), signed with the job's secret. Delivery is at least once: retried with backoff until a 2xx or
 * `callbackMaxAttempts`; the body's `event_id` is the same on every attempt, so a receiver can drop repeats.
 *
 * Signature (Stripe's scheme): `X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. A receiver
 * recomputes it over the raw body and rejects a `t` far from its clock (replays). Web Crypto only: any runtime.
 */
import { cidrContains, LOOPBACK_CIDRS, PRIVATE_CIDRS, parseCidr, parseIp } from "../core/rate-limit/client-ip.ts";
import type { JobsConfig } from "./config.ts";
import { backoffMs } from "./config.ts";
import type { JobStore, JobWithCounts } from "./ports.ts";
import { jobView } from "./view.ts";

const encoder = new TextEncoder();
const hex = (bytes: ArrayBuffer) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");

async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return hex(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
}

export const newCallbackSecret = (): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return `whsec_${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
};

export async function signCallback(secret: string, body: string, unixSeconds: number): Promise<string> {
  return `t=${unixSeconds},v1=${await hmacHex(secret, `${unixSeconds}.${body}`)}`;
}

/** What a receiver does (here for tests and as the reference): true when the signature matches and `t` is recent. */
export async function verifyCallback(
  secret: string,
  header: string | null,
  body: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): Promise<boolean> {
  const parts = new Map((header ?? "").split(",").map((p) => p.split("=", 2) as [string, string]));
  const t = Number(parts.get("t"));
  const v1 = parts.get("v1") ?? "";
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = await hmacHex(secret, `${t}.${body}`);
  if (expected.length !== v1.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ v1.charCodeAt(i);
  return diff === 0;
}

/** null when the URL is acceptable, else why not. */
export function callbackUrlProblem(url: string, allowHttp: boolean): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "callback_url is not a URL";
  }
  if (url.length > 2048) return "callback_url is longer than 2048 characters";
  if (parsed.protocol !== "https:" && !(allowHttp && parsed.protocol === "http:")) {
    return allowHttp ? "callback_url must be http(s)" : "callback_url must be https";
  }
  if (parsed.username || parsed.password) return "callback_url must not carry credentials";
  if (!allowHttp && isInternalHost(parsed.hostname)) return "callback_url must not point at a private or local address";
  return null;
}

const INTERNAL_CIDRS = [...LOOPBACK_CIDRS, ...PRIVATE_CIDRS, "169.254.0.0/16", "0.0.0.0/8", "fe80::/10", "::/128"].map(
  parseCidr,
);

/**
 * An address literal on this machine or a private network (cloud metadata included), or `localhost`. A name that
 * resolves to such an address is not caught here (that needs the resolver the runtime's fetch uses).
 */
function isInternalHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  const ip = parseIp(host);
  return ip !== null && INTERNAL_CIDRS.some((cidr) => cidrContains(cidr, ip));
}

export interface CallbackDeps {
  jobs: JobStore;
  fetch: (url: string, init: RequestInit) => Promise<Response>;
  config: Pick<JobsConfig, "callbackMaxAttempts" | "callbackTimeoutMs" | "backoffBaseMs" | "backoffMaxMs">;
  now: () => number;
  /** the currency amounts are in, per job (the plan's) */
  currencyOf: (job: JobWithCounts["job"]) => Promise<string>;
  random?: () => number;
  log?: (line: Record<string, unknown>) => void;
}

/** Sends every callback that is due; returns how many were delivered. */
export async function deliverDueCallbacks(deps: CallbackDeps, limit = 20): Promise<number> {
  const due = await deps.jobs.dueCallbacks(limit);
  const results = await Promise.all(due.map((job) => deliverOne(deps, job)));
  return results.filter(Boolean).length;
}

async function deliverOne(deps: CallbackDeps, job: JobWithCounts): Promise<boolean> {
  const { callbackUrl, callbackSecret } = job.job;
  if (callbackUrl === null || callbackSecret === null) {
    await deps.jobs.recordCallback(job.job.id, { delivered: false, error: "no callback URL", giveUp: true });
    return false;
  }
  const body = JSON.stringify({
    event_id: `evt_${job.job.id}_finished`,
    type: "job.finished",
    job: jobView(job, await deps.currencyOf(job.job)),
  });
  const signature = await signCallback(callbackSecret, body, Math.floor(deps.now() / 1000));
  let error: string | null = null;
  try {
    const res = await deps.fetch(callbackUrl, {
      method: "POST",
      headers: { "content-type": "application/json", "x-signature": signature, "user-agent": "tts-proxy-jobs/1" },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(deps.config.callbackTimeoutMs),
    });
    await res.body?.cancel().catch(() => {});
    if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}`;
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  if (error === null) {
    await deps.jobs.recordCallback(job.job.id, { delivered: true });
    return true;
  }
  const attempts = job.job.callbackAttempts + 1;
  const giveUp = attempts >= deps.config.callbackMaxAttempts;
  deps.log?.({ level: "warn", job_id: job.job.id, callback_attempt: attempts, error, give_up: giveUp });
  await deps.jobs.recordCallback(job.job.id, {
    delivered: false,
    error,
    giveUp,
    nextAt: deps.now() + backoffMs(deps.config, attempts, deps.random ?? Math.random),
  });
  return false;
}
