import type { UsageSource } from "../store/ports.ts";

/**
 * Which requests the app sent itself, and for what: the console's playground calls the app's own API in process
 * (`app.fetch`, console/internal.ts) and marks that Request object here, so its usage row says "playground". The
 * mark lives on the object, not in a header: nothing a client sends can claim it, and it never leaves the process.
 */
const sources = new WeakMap<Request, UsageSource>();

export function markRequestSource(request: Request, source: UsageSource): Request {
  sources.set(request, source);
  return request;
}

/** What sent this request: "api" unless the app marked it. */
export function requestSource(request: Request): UsageSource {
  return sources.get(request) ?? "api";
}
