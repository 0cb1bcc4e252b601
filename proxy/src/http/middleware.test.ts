import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { createClientIpResolver } from "../core/rate-limit/client-ip.ts";
import { InMemoryRateLimiter } from "../core/rate-limit/gcra.ts";
import type { RateLimiter } from "../core/rate-limit/port.ts";
import type { ProxyDeps, ProxyEnv } from "./deps.ts";
import { ipRateLimit, newRequestId, requestId } from "./middleware.ts";

describe("request ids", () => {
  it("are req_ + 32 hex digits, unique, and sort by time", () => {
    const t0 = Date.UTC(2026, 11, 1);
    const ids = Array.from({ length: 2_000 }, (_, i) => newRequestId(t0 + i));
    for (const id of ids) expect(id).toMatch(/^req_[0-9a-f]{32}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    // within one millisecond they still differ (80 random bits)
    const same = new Set(Array.from({ length: 10_000 }, () => newRequestId(t0)));
    expect(same.size).toBe(10_000);
    expect(newRequestId(t0).slice(4, 16)).toBe(t0.toString(16).padStart(12, "0"));
  });
});

describe("per-IP rate limit", () => {
  /** The IP middleware alone over a real GCRA limiter that records the keys it is asked about. */
  function ipOnlyApp(burst: number) {
    const limiter = new InMemoryRateLimiter({ now: () => 1_000_000 });
    const keys: string[] = [];
    const recording: RateLimiter = {
      limit: (key, policy, cost, now) => {
        keys.push(key);
        return limiter.limit(key, policy, cost, now);
      },
    };
    const deps = {
      config: { ipPolicy: { ratePerSecond: 1, burst } },
      rateLimiter: recording,
      // X-Forwarded-For is honoured from the (fake) loopback peer, so a test can speak for several clients.
      remoteAddress: () => "127.0.0.1",
      clientIp: createClientIpResolver({ trustedProxies: ["127.0.0.1/32"] }),
      metrics: { rateLimited: () => {} },
      now: () => 1_000_000,
    } as unknown as ProxyDeps;
    const app = new Hono<ProxyEnv>();
    app.use(requestId(deps), ipRateLimit(deps));
    app.get("/x", (c) => c.text("ok"));
    app.onError((e, c) => c.text(String(e), 429));
    const from = (ip: string) => app.request("/x", { headers: { "x-forwarded-for": ip } });
    return { keys, from };
  }

  it("keys the bucket `ip:<address>` (one prefix), IPv6 by its /64", async () => {
    const { keys, from } = ipOnlyApp(10);
    await from("203.0.113.7");
    await from("2001:db8:1:2::1");
    expect(keys).toEqual(["ip:203.0.113.7", "ip:2001:db8:1:2::/64"]);
  });

  it("admits the burst per client, then 429; another /64 or IPv4 address has its own bucket", async () => {
    const { from } = ipOnlyApp(3);
    const statuses = async (ip: string, n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await from(ip)).status);
      return out;
    };
    expect(await statuses("2001:db8:1:2::1", 2)).toEqual([200, 200]);
    // same /64, another address: the same bucket
    expect(await statuses("2001:db8:1:2:ffff::9", 2)).toEqual([200, 429]);
    expect(await statuses("2001:db8:1:3::1", 1)).toEqual([200]);
    expect(await statuses("203.0.113.7", 4)).toEqual([200, 200, 200, 429]);
  });
});
