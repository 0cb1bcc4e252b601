import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, createInProcessProxy } from "../../testing/stack.ts";
import { ConsoleClient } from "../testing/browserless.ts";
import { totalsBySource } from "../usage-sums.ts";

type Proxy = Awaited<ReturnType<typeof createInProcessProxy>>;

/** The customer console over app.request: sign-in, pages, CSRF, isolation between customers, CSV, sign-out. */
describe("customer console", () => {
  let proxy: Proxy;
  let now = Date.now();

  beforeAll(async () => {
    proxy = await createInProcessProxy({
      config: {
        ipPolicy: { ratePerSecond: 10_000, burst: 10_000 },
        consoleSignInPolicy: { ratePerSecond: 0.001, burst: 40 },
      },
    });
    proxy.deps.now = () => now;
  });
  afterAll(() => proxy.close());

  const signedIn = async () => {
    const customer = await proxy.newCustomer("basic");
    const client = new ConsoleClient(proxy.request);
    const res = await client.signIn("/console", customer.key);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/console/usage");
    return { customer, client };
  };

  it("signs in with an API key into an HttpOnly, SameSite=Strict session cookie and shows every page", async () => {
    const customer = await proxy.newCustomer("basic");
    const client = new ConsoleClient(proxy.request);
    const res = await client.signIn("/console", customer.key);
    const cookie = res.headers.getSetCookie().find((l) => l.startsWith("tts_console="));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Max-Age=28800/);
    expect(cookie).not.toMatch(/Secure/); // localhost only
    expect(cookie).not.toContain(customer.key);
    for (const page of [
      "/console/usage",
      "/console/keys",
      "/console/playground",
      "/console/jobs",
      "/console/billing",
    ]) {
      const r = await client.get(page);
      expect(r.status, page).toBe(200);
      expect(r.headers.get("content-security-policy")).toMatch(/script-src 'nonce-[^']+'/);
      expect((await r.text()).startsWith('<!doctype html><html lang="en">'), page).toBe(true);
    }
  });

  it("sets Secure on the cookie outside localhost", async () => {
    const customer = await proxy.newCustomer("basic");
    const client = new ConsoleClient(proxy.request, "https://api.example.com");
    const res = await client.signIn("/console", customer.key);
    expect(res.headers.getSetCookie().find((l) => l.startsWith("tts_console="))).toMatch(/Secure/);
  });

  it("refuses a wrong key, and a sign-in without the form's CSRF token", async () => {
    const client = new ConsoleClient(proxy.request);
    expect((await client.signIn("/console", "tts_live_wrong")).status).toBe(401);
    const customer = await proxy.newCustomer("basic");
    const fresh = new ConsoleClient(proxy.request);
    await fresh.get("/console/sign-in");
    const res = await fresh.post("/console/sign-in", { credential: customer.key, _csrf: "forged" });
    expect(res.status).toBe(403);
    expect(fresh.cookies.has("tts_console")).toBe(false);
  });

  it("rate-limits sign-in attempts per client IP (429 with Retry-After)", async () => {
    const limited = await createInProcessProxy({ config: { consoleSignInPolicy: { ratePerSecond: 0.001, burst: 2 } } });
    const client = new ConsoleClient(limited.request);
    expect((await client.signIn("/console", "tts_live_guess1")).status).toBe(401);
    expect((await client.signIn("/console", "tts_live_guess2")).status).toBe(401);
    const third = await client.signIn("/console", "tts_live_guess3");
    expect(third.status).toBe(429);
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);
    await limited.close();
  });

  it("sends unauthenticated pages to sign-in", async () => {
    const res = await new ConsoleClient(proxy.request).get("/console/keys");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/console/sign-in");
  });

  it("requires the session's CSRF token and our origin on every state-changing form", async () => {
    const { client } = await signedIn();
    expect((await client.post("/console/keys", { name: "x" })).status).toBe(403);
    const page = await (await client.get("/console/keys")).text();
    const csrf = ConsoleClient.csrf(page);
    expect(
      (await client.post("/console/keys", { name: "x", _csrf: csrf }, { origin: "https://evil.example" })).status,
    ).toBe(403);
    const created = await client.post("/console/keys", { name: "from-console", _csrf: csrf });
    expect(created.status).toBe(200);
    const html = await created.text();
    expect(html).toMatch(/tts_live_[0-9A-Za-z]{32}/);
    // shown once: the next page load lists it by prefix only
    const key = /tts_live_[0-9A-Za-z]{32}/.exec(html)?.[0] ?? "";
    expect(await (await client.get("/console/keys")).text()).not.toContain(key);
  });

  it("never shows or touches another customer's keys or jobs", async () => {
    const a = await signedIn();
    const b = await proxy.newCustomer("basic");
    const csrf = ConsoleClient.csrf(await (await a.client.get("/console/keys")).text());
    const res = await a.client.post(`/console/keys/${b.keyId}/revoke`, { _csrf: csrf });
    expect(res.status).toBe(400);
    expect((await proxy.request("/v1/keys", { headers: { "x-api-key": b.key } })).status).toBe(200);
    expect(await (await a.client.get("/console/keys")).text()).not.toContain(b.keyId);
    expect((await a.client.get(`/console/jobs/job_${b.id}`)).status).toBe(404);
  });

  it("renders a <script> in a key name as text", async () => {
    const { client } = await signedIn();
    const csrf = ConsoleClient.csrf(await (await client.get("/console/keys")).text());
    await client.post("/console/keys", { name: "<script>alert(1)</script>", _csrf: csrf });
    const html = await (await client.get("/console/keys")).text();
    expect(html).not.toContain("<script>alert(1)</script>");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  });

  it("shows usage with a chart, and downloads it as CSV", async () => {
    const { customer, client } = await signedIn();
    const tts = await proxy.request("/v1/tts", {
      method: "POST",
      headers: { "x-api-key": customer.key, "content-type": "application/json" },
      body: JSON.stringify({ text: "hello" }),
    });
    expect(tts.status).toBe(200);
    const tokens = Number(tts.headers.get("x-tokens"));
    now = Date.now(); // the metering clock is the real one: the console's range must reach the new row
    // A second request under another plan: the by-plan table and the period's totals add both up, as the ledger does.
    expect((await proxy.deps.stores.customers.update(customer.id, { planId: "batch" })).ok).toBe(true);
    const second = await proxy.request("/v1/tts", {
      method: "POST",
      headers: { "x-api-key": customer.key, "content-type": "application/json" },
      body: JSON.stringify({ text: "hello again" }),
    });
    expect(second.status).toBe(200);
    now = Date.now();
    const html = await (await client.get("/console/usage")).text();
    expect(html).toContain("<svg");
    const byPlan = await proxy.stores.ledger.totals({
      customerId: customer.id,
      fromMs: 0,
      toMs: now + 1,
      byPlan: true,
    });
    expect(byPlan.map((t) => t.planId)).toEqual(["basic", "batch"]);
    const planRows = [
      ...html.matchAll(/<tr><td>(basic|batch)<\/td><td class="n">(\d+)<\/td><td class="n">([\d,]+)<\/td>/g),
    ];
    expect(planRows.map((m) => [m[1], Number(m[2]), Number(m[3]?.replaceAll(",", ""))])).toEqual(
      byPlan.map((t) => [t.planId, t.events, t.tokens]),
    );
    const [all] = await proxy.stores.ledger.totals({ customerId: customer.id, fromMs: 0, toMs: now + 1 });
    expect(html).toContain(`usage so far (${(all?.tokens ?? 0).toLocaleString("en-US")} tokens)`);
    const csv = await client.get("/console/usage.csv?days=7");
    expect(csv.headers.get("content-type")).toMatch(/text\/csv/);
    const lines = (await csv.text()).trim().split("\r\n");
    expect(lines[0]).toBe("day,plan,peak,source,requests,tokens,audio_ms,amount_micros,currency");
    const today = new Date(now).toISOString().slice(0, 10);
    expect(lines[1]).toMatch(new RegExp(`^${today},basic,(true|false),api,1,${tokens},`));
    expect(lines[2]).toMatch(new RegExp(`^${today},batch,(true|false),api,1,`));
  });

  it("plays a synthesis in the playground, metered like any request", async () => {
    const { client } = await signedIn();
    const csrf = ConsoleClient.csrf(await (await client.get("/console/playground")).text());
    const res = await client.post("/console/playground", {
      _csrf: csrf,
      text: "Hello there",
      voice: "0",
      speed: "1",
      mode: "vector",
      v_happy: "0.8",
      alpha: "0.6",
      format: "wav",
    });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("data:audio/wav;base64,UklGR");
    expect(html).toMatch(/req_[0-9a-f]{32}/);
  });

  it("marks the playground's usage rows as such: in the ledger, the usage page, the CSV and the admin's view", async () => {
    const { customer, client } = await signedIn();
    const csrf = ConsoleClient.csrf(await (await client.get("/console/playground")).text());
    const played = await client.post("/console/playground", { _csrf: csrf, text: "Hi", voice: "0", speed: "1" });
    expect(played.status).toBe(200);
    // The same request through the API, with every header the console's call had: still "api".
    const api = await proxy.request("/v1/tts", {
      method: "POST",
      headers: { authorization: `Bearer ${customer.key}`, "content-type": "application/json" },
      body: JSON.stringify({ text: "Hi there" }),
    });
    expect(api.status).toBe(200);
    now = Date.now();
    const rows = await proxy.stores.ledger.usageByDay({
      customerId: customer.id,
      fromMs: 0,
      toMs: now + 1,
      bySource: true,
    });
    const sources = totalsBySource(rows);
    expect(sources.map((t) => [t.source, t.events])).toEqual([
      ["api", 1],
      ["playground", 1],
    ]);
    const playTokens = sources[1]?.tokens ?? -1;

    const html = await (await client.get("/console/usage")).text();
    expect(html).toMatch(/<h2>By source<\/h2>/);
    expect(html).toContain(`<tr><td>playground</td><td class="n">1</td><td class="n">${playTokens}</td>`);
    expect(html).toMatch(/<tr><td>API<\/td><td class="n">1<\/td>/);
    const csv = (await (await client.get("/console/usage.csv?days=7")).text()).trim().split("\r\n");
    expect(csv.filter((l) => l.includes(",playground,"))).toHaveLength(1);
    expect(csv.filter((l) => l.includes(",api,"))).toHaveLength(1);

    const admin = new ConsoleClient(proxy.request);
    expect((await admin.signIn("/admin/console", ADMIN_TOKEN)).status).toBe(303);
    const adminHtml = await (await admin.get(`/admin/console/customers/${customer.id}`)).text();
    expect(adminHtml).toContain(`<tr><td>playground</td><td class="n">1</td><td class="n">${playTokens}</td>`);
  });

  it("ends the session at its expiry, and at sign-out", async () => {
    const { client } = await signedIn();
    const page = await (await client.get("/console/usage")).text();
    const saved = new Map(client.cookies);
    expect((await client.post("/console/sign-out", { _csrf: ConsoleClient.csrf(page) })).status).toBe(303);
    // the old cookie, replayed, is dead too
    client.cookies.clear();
    for (const [k, v] of saved) client.cookies.set(k, v);
    expect((await client.get("/console/usage")).status).toBe(303);

    const second = await signedIn();
    now += 8 * 3_600_000 - 1;
    expect((await second.client.get("/console/usage")).status).toBe(200);
    now += 1;
    expect((await second.client.get("/console/usage")).status).toBe(303);
  });
});
