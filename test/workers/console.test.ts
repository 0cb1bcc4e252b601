import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createEdgeProxy } from "../../proxy/src/adapters/workers/edge-proxy.ts";
import { ConsoleClient } from "../../proxy/src/console/testing/browserless.ts";
import { ADMIN_TOKEN, isolate, newCustomer, request, self, upsertPlan } from "./helpers.ts";

/** The consoles are served by the same createApp in workerd: sign-in, a page with its chart, a key made, admin. */
describe("the consoles on the Worker", () => {
  const client = () => new ConsoleClient((url, init) => self(new Request(url, init)), "http://proxy.test");

  beforeAll(async () => {
    expect((await self(request("/healthz"))).status).toBe(200);
    await upsertPlan("basic", { rps: 1000, burst: 1000, inFlight: 64 });
  });

  it("a customer signs in with a key (Secure cookie off localhost), sees usage and creates a key", async () => {
    const c = await newCustomer();
    const browser = client();
    const signedIn = await browser.signIn("/console", c.key);
    expect(signedIn.status).toBe(303);
    const cookie = signedIn.headers.getSetCookie().find((l) => l.startsWith("tts_console="));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Secure/);
    const usage = await browser.get("/console/usage");
    expect(usage.status).toBe(200);
    expect(usage.headers.get("content-security-policy")).toMatch(/script-src 'nonce-/);
    expect(await usage.text()).toContain("<svg");
    const csrf = ConsoleClient.csrf(await (await browser.get("/console/keys")).text());
    const created = await browser.post("/console/keys", { _csrf: csrf, name: "edge" });
    const key = /tts_live_[0-9A-Za-z]{32}/.exec(await created.text())?.[0] ?? "";
    expect(key).not.toBe("");
    expect((await self(request("/v1/keys", { headers: { "x-api-key": key } }))).status).toBe(200);
  });

  it("a session signed out in one isolate is refused by another (the sign-out is in D1)", async () => {
    const c = await newCustomer();
    const here = client();
    expect((await here.signIn("/console", c.key)).status).toBe(303);
    const second = isolate(createEdgeProxy(env));
    const there = new ConsoleClient((url, init) => second(new Request(url, init)), "http://proxy.test");
    for (const [k, v] of here.cookies) there.cookies.set(k, v);
    expect((await there.get("/console/usage")).status).toBe(200);
    const csrf = ConsoleClient.csrf(await (await here.get("/console/keys")).text());
    expect((await here.post("/console/sign-out", { _csrf: csrf })).status).toBe(303);
    const refused = await there.get("/console/usage");
    expect(refused.status).toBe(303);
    expect(refused.headers.get("location")).toBe("/console/sign-in");
  });

  it("an admin signs in with the token and sees the customers", async () => {
    const browser = client();
    expect((await browser.signIn("/admin/console", ADMIN_TOKEN)).status).toBe(303);
    const page = await browser.get("/admin/console/customers");
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Customers");
  });
});

describe("the interactive API reference on the Worker", () => {
  it("serves Swagger UI's files from the assets binding, under a nonce CSP", async () => {
    const page = await self(request("/docs"));
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toMatch(/script-src 'nonce-/);
    expect(await page.text()).toContain('src="/docs/assets/swagger-ui-bundle.js"');
    const bundle = await self(request("/docs/assets/swagger-ui-bundle.js"));
    expect(bundle.status).toBe(200);
    expect((await bundle.text()).length).toBeGreaterThan(1_000_000);
    expect((await self(request("/docs/assets/package.json"))).status).toBe(404);
  });
});
