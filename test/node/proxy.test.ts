import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rateUsage } from "../../billing/src/rating/rate.ts";
import { ADMIN_TOKEN, silentWav, startProxy, startStubNode } from "../../proxy/src/testing/stack.ts";

type Proxy = Awaited<ReturnType<typeof startProxy>>;
type Stub = Awaited<ReturnType<typeof startStubNode>>;

const ARTICLE = { text: "欢迎使用IndexTTS2语音合成服务,支持情感调节和多音色选择。", emotion: "happy", voice: 0 };
const generous = { ipPolicy: { ratePerSecond: 10_000, burst: 10_000 } };

async function tts(proxy: Proxy, key: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${proxy.url}/v1/tts`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const json = res.headers.get("content-type")?.includes("json") ? JSON.parse(new TextDecoder().decode(bytes)) : null;
  return { status: res.status, headers: res.headers, bytes, json };
}

async function usageRows(proxy: Proxy, customerId: string) {
  const totals = await proxy.stores.ledger.totals({ customerId, fromMs: 0, toMs: Date.now() + 60_000 });
  return totals[0] ?? { events: 0, tokens: 0, amountMicros: 0 };
}

describe("proxy over HTTP with stand-in GPU nodes", () => {
  let a: Stub;
  let b: Stub;
  let proxy: Proxy;

  beforeAll(async () => {
    a = await startStubNode(2000);
    b = await startStubNode(2000);
    proxy = await startProxy([a.url, b.url], { config: generous });
    await proxy.admin("PUT", "/admin/plans/basic", {
      kind: "basic",
      name: "Basic",
      currency: "USD",
      time_zone: "UTC",
      requests_per_second: 1000,
      burst: 1000,
      max_in_flight: 64,
    });
  });
  afterAll(async () => {
    await proxy.close();
    await a.close();
    await b.close();
  });

  it("never takes the usage row's id from the caller: the same X-Request-Id twice is billed twice", async () => {
    const c = await proxy.newCustomer();
    const first = await tts(proxy, c.key, ARTICLE, { "x-request-id": "client-chosen-id-0001" });
    const second = await tts(proxy, c.key, ARTICLE, { "x-request-id": "client-chosen-id-0001" });
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(first.headers.get("x-client-request-id")).toBe("client-chosen-id-0001");
    expect(first.headers.get("x-request-id")).not.toBe(second.headers.get("x-request-id"));
    expect(await usageRows(proxy, c.id)).toMatchObject({ events: 2, tokens: 200 });
  });

  it("meters verified audio at 50 tokens per second, rates it with the price in force, and records it before answering", async () => {
    const c = await proxy.newCustomer();
    const r = await tts(proxy, c.key, ARTICLE);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("audio/wav");
    expect(r.headers.get("x-tokens")).toBe("100");
    const at = Date.now();
    const version = await proxy.stores.plans.versionAt("basic", at);
    if (!version) throw new Error("no price");
    const expected = rateUsage({
      tokens: 100,
      plan: "basic",
      version: {
        unitPriceMicrosPer1k: version.unitPriceMicrosPer1kTokens,
        peakMultiplierBp: version.peakMultiplierBp,
        batchDiscountBp: version.batchDiscountBp,
        peakWindows: version.peakWindows,
        timeZone: "UTC",
      },
      atMs: at,
    });
    expect(Number(r.headers.get("x-amount-micros"))).toBe(expected.amountMicros);
    expect(r.headers.get("x-price-multiplier")).toBe((expected.multiplierBp / 10_000).toFixed(4));
    expect(r.headers.get("x-request-id")).toMatch(/^req_/);
    // the row is in the ledger the moment the response arrives
    const usage = await usageRows(proxy, c.id);
    expect(usage).toMatchObject({ events: 1, tokens: 100, amountMicros: expected.amountMicros });
    // and the node got the article's payload shape
    const body = (a.state.served > 0 ? a.state.lastBody : b.state.lastBody) as Record<string, unknown>;
    expect(body).toMatchObject({ text: ARTICLE.text, emotion: "happy", speaker_id: 0, speed: 1 });
  });

  it("accepts x-api-key; 401 for missing, unknown and revoked keys; 403 for a suspended customer", async () => {
    const c = await proxy.newCustomer();
    const viaHeader = await fetch(`${proxy.url}/v1/voices`, { headers: { "x-api-key": c.key } });
    expect(viaHeader.status).toBe(200);
    expect((await tts(proxy, "", ARTICLE)).json.error.code).toBe("MISSING_API_KEY");
    const unknown = await tts(proxy, "tts_live_00000000000000000000000000000000", ARTICLE);
    expect([unknown.status, unknown.json.error.code]).toEqual([401, "INVALID_API_KEY"]);
    await proxy.admin("POST", `/admin/customers/${c.id}/suspend`, { reason: "unpaid invoice" });
    const suspended = await tts(proxy, c.key, ARTICLE);
    expect([suspended.status, suspended.json.error.code]).toEqual([403, "CUSTOMER_SUSPENDED"]);
    await proxy.admin("POST", `/admin/customers/${c.id}/restore`);
    expect((await tts(proxy, c.key, ARTICLE)).status).toBe(200);
    await proxy.admin("DELETE", `/admin/keys/${c.keyId}`);
    const revoked = await tts(proxy, c.key, ARTICLE);
    expect([revoked.status, revoked.json.error.code]).toEqual([401, "INVALID_API_KEY"]);
  });

  it("keeps the admin API behind the admin token", async () => {
    const res = await fetch(`${proxy.url}/admin/customers`, { headers: { authorization: "Bearer wrong" } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("ADMIN_TOKEN_REQUIRED");
  });

  it.each([
    ["malformed JSON", "{oops", {}, 400, "INVALID_JSON"],
    ["missing text", { voice: 0 }, {}, 400, "INVALID_REQUEST"],
    ["text of the wrong type", { text: ["a"] }, {}, 400, "INVALID_REQUEST"],
    ["empty text", { text: "  " }, {}, 400, "EMPTY_TEXT"],
    ["over-long text", { text: "字".repeat(4097) }, {}, 400, "TEXT_TOO_LONG"],
    ["unknown voice", { text: "hi", voice: 42 }, {}, 400, "UNKNOWN_VOICE"],
    ["unknown emotion", { text: "hi", emotion: "smug" }, {}, 400, "UNKNOWN_EMOTION"],
    ["speed out of range", { text: "hi", speed: 9 }, {}, 400, "INVALID_REQUEST"],
    ["wrong content type", "text=hi", { "content-type": "text/plain" }, 415, "UNSUPPORTED_MEDIA_TYPE"],
    ["an oversized body", { text: "x".repeat(70_000) }, {}, 413, "PAYLOAD_TOO_LARGE"],
  ])("rejects %s with a 4xx JSON error and charges nothing", async (_, body, headers, status, code) => {
    const c = await proxy.newCustomer();
    const r = await tts(proxy, c.key, body, headers as Record<string, string>);
    expect(r.status).toBe(status);
    expect(r.json.error).toMatchObject({ code, request_id: r.headers.get("x-request-id") });
    expect((await usageRows(proxy, c.id)).events).toBe(0);
  });

  it("speaks the OpenAI-compatible API and refuses formats it does not offer", async () => {
    const c = await proxy.newCustomer();
    const ok = await fetch(`${proxy.url}/v1/audio/speech`, {
      method: "POST",
      headers: { authorization: `Bearer ${c.key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "indextts2", input: "Hello", voice: "alice", instructions: "sound happy" }),
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("x-tokens")).toBe("100");
    expect(ok.headers.get("content-type")).toBe("audio/mpeg");
    const vorbis = await fetch(`${proxy.url}/v1/audio/speech`, {
      method: "POST",
      headers: { authorization: `Bearer ${c.key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "indextts2", input: "Hello", voice: "alice", response_format: "vorbis" }),
    });
    expect(vorbis.status).toBe(400);
    expect(((await vorbis.json()) as { error: { code: string; type: string } }).error).toMatchObject({
      code: "UNSUPPORTED_FORMAT",
      type: "invalid_request_error",
    });
  });

  it("an Idempotency-Key retry returns the same audio and is charged once; another body with it is refused", async () => {
    const c = await proxy.newCustomer();
    const first = await tts(proxy, c.key, ARTICLE, { "idempotency-key": "order-1" });
    const again = await tts(proxy, c.key, ARTICLE, { "idempotency-key": "order-1" });
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(Buffer.from(again.bytes)).toEqual(Buffer.from(first.bytes));
    expect(again.headers.get("x-request-id")).toBe(first.headers.get("x-request-id"));
    expect((await usageRows(proxy, c.id)).events).toBe(1);
    const other = await tts(proxy, c.key, { ...ARTICLE, text: "something else" }, { "idempotency-key": "order-1" });
    expect([other.status, other.json.error.code]).toEqual([422, "IDEMPOTENCY_KEY_REUSED"]);
  });

  it("reports the caller's own usage by day, peak vs off-peak", async () => {
    const c = await proxy.newCustomer();
    await tts(proxy, c.key, ARTICLE);
    await tts(proxy, c.key, ARTICLE);
    const res = await fetch(`${proxy.url}/v1/usage`, { headers: { authorization: `Bearer ${c.key}` } });
    const usage = (await res.json()) as { days: { tokens: number; requests: number }[]; totals: { tokens: number }[] };
    expect(usage.totals[0]?.tokens).toBe(200);
    expect(usage.days.reduce((n, d) => n + d.requests, 0)).toBe(2);
  });

  it("a node that answers garbage or lies about the duration gets a 502 and no charge", async () => {
    const c = await proxy.newCustomer();
    for (const behaviour of ["garbage", "lying"] as const) {
      a.state.behaviour = behaviour;
      b.state.behaviour = behaviour;
      const r = await tts(proxy, c.key, ARTICLE);
      expect([r.status, r.json.error.code]).toEqual([502, "UPSTREAM_INVALID_RESPONSE"]);
    }
    a.state.behaviour = "ok";
    b.state.behaviour = "ok";
    expect((await usageRows(proxy, c.id)).events).toBe(0);
    proxy.breakers.reset("node0");
    proxy.breakers.reset("node1");
  });

  it("a node's 503 backpressure sends the request to the other node", async () => {
    const c = await proxy.newCustomer();
    a.state.behaviour = "busy503";
    const before = b.state.served;
    for (let i = 0; i < 6; i++) expect((await tts(proxy, c.key, ARTICLE)).status).toBe(200);
    expect(b.state.served - before).toBe(6);
    a.state.behaviour = "ok";
  });
});

describe("proxy resilience", () => {
  it("a failing node's breaker opens and traffic moves on; only requests on it fail", async () => {
    const bad = await startStubNode();
    const good = await startStubNode();
    const proxy = await startProxy([bad.url, good.url], { config: generous });
    try {
      const c = await proxy.newCustomer("enterprise");
      bad.state.behaviour = "error500";
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) statuses.push((await tts(proxy, c.key, ARTICLE)).status);
      // 3 consecutive failures open the breaker; after that every request lands on the good node. When the third
      // failure comes depends on how the balancer's random choices fell, so look from there, not from a fixed index.
      const failures = statuses.flatMap((s, i) => (s === 502 ? [i] : []));
      expect(failures).toHaveLength(3);
      const opened = failures[2] ?? statuses.length;
      expect(statuses.length - opened - 1).toBeGreaterThanOrEqual(10);
      expect(statuses.slice(opened + 1).every((s) => s === 200)).toBe(true);
      const snapshot = proxy.breakers.snapshot().find((s) => s.nodeId === "node0");
      expect(snapshot?.state).toBe("open");
      const metrics = await (
        await fetch(`${proxy.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
      ).text();
      expect(metrics).toContain('proxy_node_breaker_state{node="node0",pool="shared",state="open"} 1');
      expect((await usageRows(proxy, c.id)).events).toBe(statuses.filter((s) => s === 200).length);
    } finally {
      await proxy.close();
      await bad.close();
      await good.close();
    }
  });

  it("a dead node (connection refused) is retried on another node before any byte; none up → 503 with Retry-After", async () => {
    const good = await startStubNode();
    const dead = await startStubNode();
    const deadUrl = dead.url;
    await dead.close();
    const proxy = await startProxy([deadUrl, good.url], { config: generous });
    try {
      const c = await proxy.newCustomer("enterprise");
      for (let i = 0; i < 5; i++) expect((await tts(proxy, c.key, ARTICLE)).status).toBe(200);
      await good.close();
      const r = await tts(proxy, c.key, ARTICLE);
      expect(r.status === 503 || r.status === 502).toBe(true);
      if (r.status === 503) {
        expect(r.json.error.code).toBe("NO_CAPACITY");
        expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      }
      expect((await usageRows(proxy, c.id)).events).toBe(5);
    } finally {
      await proxy.close();
    }
  });

  it("per-IP limit: a 10× over-limit burst from one IP admits the configured amount within 1 %", async () => {
    const node = await startStubNode();
    // A slow refill next to a large burst: the allowance over the whole flood is the burst, give or take the refill.
    const policy = { ratePerSecond: 0.05, burst: 200 };
    const proxy = await startProxy([node.url], { config: { ipPolicy: policy } });
    try {
      // the key's own limits stay out of the way
      await proxy.admin("PUT", "/admin/plans/flood", {
        kind: "basic",
        name: "Flood",
        currency: "USD",
        time_zone: "UTC",
        requests_per_second: 100_000,
        burst: 100_000,
        max_in_flight: 1_000,
      });
      const c = await proxy.newCustomer("flood");
      const total = 10 * policy.burst;
      const statuses: number[] = [];
      let sample: { headers: Headers; body: unknown } | null = null;
      let next = 0;
      const started = Date.now();
      await Promise.all(
        Array.from({ length: 64 }, async () => {
          while (next < total) {
            next++;
            const r = await fetch(`${proxy.url}/v1/voices`, { headers: { "x-api-key": c.key } });
            const body: unknown = await r.json();
            statuses.push(r.status);
            if (r.status === 429) sample ??= { headers: r.headers, body };
          }
        }),
      );
      const elapsedS = (Date.now() - started) / 1000;
      const admitted = statuses.filter((s) => s === 200).length;
      const allowance = policy.burst + Math.floor(policy.ratePerSecond * elapsedS);
      expect(statuses.length).toBe(total);
      expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
      // never fewer than the burst, never more than what refilled meanwhile; both within 1 %
      expect(admitted).toBeGreaterThanOrEqual(policy.burst);
      expect(admitted).toBeLessThanOrEqual(allowance + 1);
      expect(Math.abs(admitted - policy.burst) / policy.burst).toBeLessThanOrEqual(0.01);
      const limited = sample as { headers: Headers; body: unknown } | null;
      expect(Number(limited?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(limited?.headers.get("ratelimit-policy")).toBe('"ip";q=200;w=4000');
      expect(limited?.headers.get("ratelimit")).toMatch(/^"ip";r=0;t=\d+$/);
      expect(limited?.body).toMatchObject({ error: { code: "RATE_LIMITED" } });
    } finally {
      await proxy.close();
      await node.close();
    }
  });
});

describe("silentWav helper", () => {
  it("builds a WAV of the asked length", () => {
    expect(silentWav(1000).byteLength).toBe(44 + 44100);
  });
});
