import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProxy, startStubNode } from "../../proxy/src/testing/stack.ts";
import { billed, GENEROUS_IP, putPlan, type TestProxy, tts } from "./proxy-helpers.ts";

type Stub = Awaited<ReturnType<typeof startStubNode>>;

const voices = (proxy: TestProxy, key: string, headers: Record<string, string> = {}) =>
  fetch(`${proxy.url}/v1/voices`, { headers: { "x-api-key": key, ...headers } }).then(async (r) => {
    await r.arrayBuffer();
    return r;
  });

describe("per-key limits from the plan", () => {
  let node: Stub;
  let proxy: TestProxy;

  beforeAll(async () => {
    node = await startStubNode(1000);
    proxy = await startProxy([node.url], { config: GENEROUS_IP });
  });
  afterAll(async () => {
    await proxy.close();
    await node.close();
  });

  it("requests/s with burst: the burst passes, the next one is 429 with Retry-After and both policies", async () => {
    await putPlan(proxy, "trickle", { requests_per_second: 1, burst: 3 });
    await proxy.admin("POST", "/admin/plans/trickle/prices", { unit_price_micros_per_1k_tokens: 1000 });
    const c = await proxy.newCustomer("trickle");
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await voices(proxy, c.key));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    const refused = answers[3] as Response;
    expect(Number(refused.headers.get("retry-after"))).toBe(1); // one unit per second
    expect(refused.headers.get("ratelimit-policy")).toBe('"ip";q=1000000;w=1, "key";q=3;w=3');
    expect(refused.headers.get("ratelimit")).toMatch(/^"ip";r=\d+;t=\d+, "key";r=0;t=3$/);
    expect(answers[0]?.headers.get("ratelimit")).toMatch(/"key";r=2;t=1$/);
    // another key of another customer has its own bucket
    const other = await proxy.newCustomer("trickle");
    expect((await voices(proxy, other.key)).status).toBe(200);
  });

  it("requests in flight: beyond the plan's maximum, 429 TOO_MANY_IN_FLIGHT at once, never queued; nothing billed", async () => {
    await putPlan(proxy, "narrow", { max_in_flight: 2 });
    await proxy.admin("POST", "/admin/plans/narrow/prices", { unit_price_micros_per_1k_tokens: 1000 });
    const c = await proxy.newCustomer("narrow");
    node.state.delayMs = 3_000;
    try {
      // "at once, never queued": every refusal arrives before the first admitted request's answer (the node holds
      // those for 3 s); ordering, not a wall-clock bound, so a loaded machine does not fail it.
      const finished: number[] = [];
      const answers = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          tts(proxy, c.key).then((a) => {
            finished.push(i);
            return a;
          }),
        ),
      );
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses).toEqual([200, 200, 429, 429, 429]);
      for (const refused of answers.filter((a) => a.status === 429)) {
        expect(refused.json?.error.code).toBe("TOO_MANY_IN_FLIGHT");
        expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      }
      expect(finished.slice(0, 3).map((i) => answers[i]?.status)).toEqual([429, 429, 429]);
      expect(await billed(proxy, c.id)).toMatchObject({ events: 2 });
      // the slots come back once the requests finish
      expect((await tts(proxy, c.key)).status).toBe(200);
    } finally {
      node.state.delayMs = 0;
    }
  });
});

describe("per-IP limit behind trusted proxies", () => {
  it("X-Forwarded-For from a trusted hop names the client: each client has its own bucket", async () => {
    const node = await startStubNode(1000);
    const proxy = await startProxy([node.url], { config: { ipPolicy: { ratePerSecond: 0.1, burst: 2 } } });
    try {
      const c = await proxy.newCustomer("enterprise");
      const as = (xff: string) => voices(proxy, c.key, { "x-forwarded-for": xff });
      expect(
        (await Promise.all([as("203.0.113.7"), as("203.0.113.7"), as("203.0.113.7")])).map((r) => r.status).sort(),
      ).toEqual([200, 200, 429]);
      // another client behind the same proxy is not affected, whatever the client put further left
      expect((await as("198.51.100.1, 203.0.113.9")).status).toBe(200);
      expect((await as("203.0.113.7, 203.0.113.9")).status).toBe(200); // the spoofed left entry is not believed
      // an IPv6 client is limited by its /64
      expect((await as("2001:db8::1")).status).toBe(200);
      expect((await as("2001:db8::2")).status).toBe(200);
      expect((await as("2001:db8::3")).status).toBe(429);
    } finally {
      await proxy.close();
      await node.close();
    }
  });

  it("a peer that is not a trusted proxy is the client: its X-Forwarded-For is ignored", async () => {
    const node = await startStubNode(1000);
    const proxy = await startProxy([node.url], {
      config: { ipPolicy: { ratePerSecond: 0.1, burst: 2 } },
      trustedProxies: [],
    });
    try {
      const c = await proxy.newCustomer("enterprise");
      const statuses = [];
      for (const xff of ["203.0.113.1", "203.0.113.2", "203.0.113.3"]) {
        statuses.push((await voices(proxy, c.key, { "x-forwarded-for": xff })).status);
      }
      expect(statuses).toEqual([200, 200, 429]);
    } finally {
      await proxy.close();
      await node.close();
    }
  });
});

describe("request bodies", () => {
  it("a chunked body past the cap is refused with 413 while it is still being sent (it is never buffered whole)", async () => {
    const node = await startStubNode(1000);
    const proxy = await startProxy([node.url], { config: { ...GENEROUS_IP, maxBodyBytes: 64 * 1024 } });
    try {
      await putPlan(proxy, "basic");
      const c = await proxy.newCustomer();
      const url = new URL(`${proxy.url}/v1/tts`);
      let sent = 0;
      const result = await new Promise<{ status: number; body: string; sentWhenAnswered: number }>(
        (resolve, reject) => {
          const req = request(
            {
              host: url.hostname,
              port: url.port,
              path: url.pathname,
              method: "POST",
              headers: { authorization: `Bearer ${c.key}`, "content-type": "application/json" },
            },
            (res) => {
              const sentWhenAnswered = sent;
              clearInterval(timer);
              let body = "";
              res.on("data", (d: Buffer) => {
                body += d.toString();
              });
              res.on("end", () => {
                resolve({ status: res.statusCode ?? 0, body, sentWhenAnswered });
                stop();
              });
            },
          );
          req.on("error", (e) => (sent > 0 ? undefined : reject(e)));
          // An endless body: a server that buffered it whole would never answer.
          const chunk = `{"text":"${"x".repeat(8 * 1024)}`;
          const timer = setInterval(() => {
            sent += chunk.length;
            req.write(chunk);
          }, 1);
          const stop = () => {
            clearInterval(timer);
            req.destroy();
          };
          setTimeout(() => {
            stop();
            reject(new Error(`no answer after ${sent} bytes`));
          }, 10_000);
        },
      );
      expect(result.status).toBe(413);
      expect(JSON.parse(result.body).error.code).toBe("PAYLOAD_TOO_LARGE");
      expect(result.sentWhenAnswered).toBeLessThan(4 * 1024 * 1024);
      expect(node.state.served).toBe(0);
      expect((await billed(proxy, c.id)).events).toBe(0);
    } finally {
      await proxy.close();
      await node.close();
    }
  });
});
