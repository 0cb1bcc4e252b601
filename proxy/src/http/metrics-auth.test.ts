import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, createInProcessProxy } from "../testing/stack.ts";

type Proxy = Awaited<ReturnType<typeof createInProcessProxy>>;

/** Issue 14 #9: /metrics shows metered revenue; only the admin token or the metrics token may read it. */
describe("/metrics access", () => {
  const METRICS_TOKEN = "metrics-token-0123456789abcdef";
  let proxy: Proxy;

  beforeAll(async () => {
    proxy = await createInProcessProxy({ config: { metricsToken: METRICS_TOKEN } });
  });
  afterAll(async () => {
    await proxy.close();
  });

  const scrape = (authorization?: string) =>
    proxy.request("/metrics", authorization ? { headers: { authorization } } : {});

  it("without a token, or with a wrong one or a customer key, is a 401 with a stable code and no figures", async () => {
    const c = await proxy.newCustomer();
    for (const auth of [
      undefined,
      "Bearer nope",
      `Bearer ${c.key}`,
      `Basic ${btoa(`x:${ADMIN_TOKEN}`)}`,
      METRICS_TOKEN,
    ]) {
      const res = await scrape(auth);
      const text = await res.text();
      expect(res.status, String(auth)).toBe(401);
      expect(JSON.parse(text).error.code).toBe("ADMIN_TOKEN_REQUIRED");
      expect(text).not.toContain("proxy_");
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
  });

  it("the metrics token (Prometheus bearer_token) or the admin token reads it", async () => {
    for (const token of [METRICS_TOKEN, ADMIN_TOKEN]) {
      const res = await scrape(`Bearer ${token}`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain("proxy_");
    }
  });

  it("the metrics token opens nothing else", async () => {
    const res = await proxy.request("/admin/customers", { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(401);
  });
});
