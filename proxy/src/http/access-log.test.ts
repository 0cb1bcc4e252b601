import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { ProxyError } from "../core/errors.ts";
import { accessLog } from "./access-log.ts";
import type { ProxyEnv } from "./deps.ts";

/** The access log over a bare app: a request id and start time as requestId() sets them, routes that meter or fail. */
function app() {
  const lines: Record<string, unknown>[] = [];
  let now = 1_000;
  const a = new Hono<ProxyEnv>();
  a.use(async (c, next) => {
    c.set("requestId", "req_test");
    c.set("startedAt", now);
    await next();
  });
  a.use(accessLog({ log: (l) => lines.push(l), now: () => now }));
  a.post("/v1/tts", (c) => {
    now += 42;
    c.set("usage", { nodeId: "node-a", tokens: 100, amountMicros: 250, currency: "USD", audioMs: 2_000 });
    return c.body("wav", 200);
  });
  a.post("/v1/fail", () => {
    throw new ProxyError("UNKNOWN_VOICE", "no such voice");
  });
  a.post("/v1/crash", () => {
    throw new Error("bug");
  });
  a.get("/healthz", (c) => c.json({ ok: true }));
  a.onError((err) => new Response("{}", { status: err instanceof ProxyError ? err.status : 500 }));
  return { a, lines };
}

describe("proxy access log", () => {
  it("writes one line per request with the id, status, usage and duration", async () => {
    const { a, lines } = app();
    await a.request("/v1/tts", { method: "POST" });
    expect(lines).toEqual([
      {
        level: "info",
        msg: "request",
        request_id: "req_test",
        method: "POST",
        route: "/v1/tts",
        path: "/v1/tts",
        status: 200,
        customer_id: null,
        key_id: null,
        node: "node-a",
        tokens: 100,
        amount_micros: 250,
        currency: "USD",
        audio_ms: 2_000,
        duration_ms: 42,
      },
    ]);
  });

  it("carries the error code of a refusal, INTERNAL for anything else, and skips probes", async () => {
    const { a, lines } = app();
    await a.request("/v1/fail", { method: "POST" });
    await a.request("/v1/crash", { method: "POST" });
    await a.request("/healthz");
    expect(lines.map((l) => [l.status, l.code, l.tokens])).toEqual([
      [400, "UNKNOWN_VOICE", 0],
      [500, "INTERNAL", 0],
    ]);
  });
});
