import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createEdgeProxy } from "../../proxy/src/adapters/workers/edge-proxy.ts";
import { isolate, newCustomer, request, self, type Target, tts, upsertPlan } from "./helpers.ts";

type ErrorBody = { error: { code: string } };

/** Fires every request at once, alternating between the targets (isolates); returns statuses, codes and elapsed s. */
async function burst(targets: Target[], make: () => Request, count: number) {
  const started = Date.now();
  const responses = await Promise.all(
    Array.from({ length: count }, (_, i) => (targets[i % targets.length] as Target)(make())),
  );
  const elapsedS = (Date.now() - started) / 1000;
  const codes = await Promise.all(
    responses.map(async (r) => (r.status === 200 ? "ok" : ((await r.json()) as ErrorBody).error.code)),
  );
  return { responses, codes, elapsedS, admitted: codes.filter((c) => c === "ok").length };
}

describe("limits through the Durable Objects are exact across isolates", () => {
  beforeAll(async () => {
    expect((await self(request("/healthz"))).status).toBe(200);
  });

  it("per API key: two isolates together admit the plan's burst, not twice it", async () => {
    await upsertPlan("tight", { rps: 1, burst: 10, inFlight: 64 });
    const c = await newCustomer("tight");
    const other = isolate(createEdgeProxy(env));
    const r = await burst([self, other], () => request("/v1/voices", { headers: { "x-api-key": c.key } }), 40);
    // GCRA admits burst + rate × elapsed at most; an in-memory limiter per isolate would have admitted 2 × 10.
    expect(r.admitted).toBeGreaterThanOrEqual(10);
    // ceil, not floor: workerd's clock advances only across I/O, so the objects' clock and this test's may differ by
    // a fraction of the refill interval (seen once under load: one more admitted than floor allowed)
    expect(r.admitted).toBeLessThanOrEqual(10 + Math.ceil(r.elapsedS * 1));
    expect(r.codes.filter((c) => c !== "ok").every((c) => c === "RATE_LIMITED")).toBe(true);
    const refused = r.responses.find((x) => x.status === 429);
    expect(Number(refused?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused?.headers.get("ratelimit-policy")).toContain("q=10");
  });

  it("per client IP (CF-Connecting-IP): one bucket for the whole deployment, before any key lookup", async () => {
    const tightIp = { ...env, IP_RATE_PER_SECOND: "1", IP_BURST: "10" };
    const prefix = `${crypto.randomUUID()}:`;
    const a = isolate(createEdgeProxy(tightIp, { limiterPrefix: prefix }));
    const b = isolate(createEdgeProxy(tightIp, { limiterPrefix: prefix }));
    const from = (ip: string) => () => request("/v1/voices", { headers: { "cf-connecting-ip": ip } });
    const r = await burst([a, b], from("203.0.113.7"), 30);
    // Past the IP limit a request is refused before auth (429); within it, it reaches auth (401: no key).
    const passed = r.codes.filter((c) => c === "MISSING_API_KEY").length;
    expect(passed).toBeGreaterThanOrEqual(10);
    expect(passed).toBeLessThanOrEqual(10 + Math.ceil(r.elapsedS * 1));
    expect(r.codes.filter((c) => c === "RATE_LIMITED")).toHaveLength(30 - passed);
    // Another address has its own bucket.
    expect(((await (await a(from("198.51.100.1")())).json()) as ErrorBody).error.code).toBe("MISSING_API_KEY");
  });

  it("in-flight slots per key are counted across isolates (leases in the key's object)", async () => {
    await upsertPlan("narrow", { rps: 1000, burst: 1000, inFlight: 2 });
    const c = await newCustomer("narrow");
    const other = isolate(createEdgeProxy(env));
    const r = await burst([self, other], () => tts(c.key), 6);
    // Every request asks for its slot before the first synthesis (hundreds of ms) ends: exactly two get one.
    expect(r.admitted).toBe(2);
    expect(r.codes.filter((x) => x === "TOO_MANY_IN_FLIGHT")).toHaveLength(4);
    // The slots came back: the key can synthesize again.
    expect((await self(tts(c.key))).status).toBe(200);
  });
});
