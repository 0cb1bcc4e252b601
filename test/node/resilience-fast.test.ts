import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startJobsStack } from "../../proxy/src/jobs/testing/stack.ts";
import { ADMIN_TOKEN, startProxy, startStubNode } from "../../proxy/src/testing/stack.ts";
import { spoofedHeaders, tenantIsolation } from "../../scripts/resilience/checks.ts";
import { fuzz } from "../../scripts/resilience/fuzz.ts";

type Stub = Awaited<ReturnType<typeof startStubNode>>;

/**
 * The fast parts of `npm run test:resilience` (scripts/resilience/), in-process over real HTTP: a short seeded fuzz of
 * every documented route (no 5xx, no connection error), the two-tenant checks, and the spoofed-header limit check.
 */
describe("resilience, fast parts", () => {
  let node: Stub;
  let stack: Awaited<ReturnType<typeof startJobsStack>>;

  beforeAll(async () => {
    node = await startStubNode(500);
    stack = await startJobsStack([node.url]);
  });
  afterAll(async () => {
    await stack.close();
    await node.close();
  });

  it("a seeded fuzz over every documented route: no 5xx, no connection error", async () => {
    const basic = await stack.newCustomer("enterprise");
    const batch = await stack.newCustomer("batch");
    const result = await fuzz(
      { url: stack.url, keys: { basic: basic.key, batch: batch.key, admin: ADMIN_TOKEN } },
      { seed: 14, count: 250, concurrency: 2 },
    );
    expect(result.findings).toEqual([]);
    expect(result.serverErrors).toBe(0);
    expect(result.connectionErrors).toBe(0);
    expect(result.sent).toBe(250);
  });

  it("one tenant cannot read, cancel or list another's job, nor replay its idempotency key", async () => {
    const a = await stack.newCustomer("batch");
    const b = await stack.newCustomer("batch");
    const result = await tenantIsolation(stack.url, a.key, b.key);
    expect(result.findings).toEqual([]);
    expect(result.leaks).toBe(0);
  });

  it("spoofed client-IP headers buy no extra per-IP budget (default: no trusted proxy)", async () => {
    const proxy = await startProxy([node.url], {
      config: { ipPolicy: { ratePerSecond: 0.001, burst: 5 } },
      trustedProxies: [],
    });
    try {
      const c = await proxy.newCustomer("enterprise");
      const result = await spoofedHeaders(proxy.url, c.key, 40, 5);
      expect(result.admitted).toBe(5);
      expect(result.overAdmission).toBe(0);
    } finally {
      await proxy.close();
    }
  });
});
