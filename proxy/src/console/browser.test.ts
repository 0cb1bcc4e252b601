import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeDocsAssets } from "../adapters/node/docs-assets.ts";
import { ADMIN_TOKEN, createInProcessProxy, listen } from "../testing/stack.ts";
import { launchChromium } from "./testing/chromium.ts";

type Proxy = Awaited<ReturnType<typeof createInProcessProxy>>;

/** Screenshots of every page, for a maintainer to look at (git-ignored). */
const SHOTS = join(process.cwd(), "test-output", "console-screenshots");
const HOSTILE = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`;

/**
 * The consoles in headless Chromium against the app over real HTTP on 127.0.0.1: sign-in flows, isolation between
 * customers, CSRF, the CSP, hostile names rendered inert, session expiry on an injected clock, sign-out, keyboard use.
 */
/** What a screen-reader or keyboard user would miss on the page shown: unlabelled controls, unnamed buttons, unscoped headers. */
function accessibilityGaps(page: Page): Promise<string[]> {
  return page.evaluate(() => [
    ...[...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
      .filter((el) => (el as HTMLInputElement).labels?.length === 0 && !el.getAttribute("aria-label"))
      .map((el) => `unlabelled ${el.tagName.toLowerCase()} ${el.getAttribute("name")}`),
    ...[...document.querySelectorAll("button")]
      .filter((b) => !b.textContent?.trim() && !b.getAttribute("aria-label"))
      .map((b) => `unnamed button in ${b.closest("form")?.getAttribute("action")}`),
    ...[...document.querySelectorAll("th:not([scope])")].map((th) => `header without scope: ${th.textContent}`),
  ]);
}

describe("consoles in a real browser", () => {
  let proxy: Proxy;
  let server: Awaited<ReturnType<typeof listen>>;
  let evil: Awaited<ReturnType<typeof listen>>;
  let browser: Browser;
  let now = Date.now();
  const contexts: BrowserContext[] = [];
  /** CSP violations the browser reported, per page */
  const violations: string[] = [];

  const newPage = async (): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on("console", (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    return page;
  };
  const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const signIn = async (page: Page, root: string, credential: string) => {
    await page.goto(`${server.url}${root}/sign-in`);
    await page.getByLabel(root === "/console" ? "API key" : "Admin token").fill(credential);
    await page.getByRole("button", { name: "Sign in" }).click();
  };

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    proxy = await createInProcessProxy({
      jobs: true,
      docsAssets: nodeDocsAssets(),
      config: {
        ipPolicy: { ratePerSecond: 10_000, burst: 10_000 },
        consoleSignInPolicy: { ratePerSecond: 1, burst: 100 },
      },
    });
    proxy.deps.now = () => now;
    server = await listen(proxy.app.fetch);
    // Another site (localhost ≠ 127.0.0.1) whose page posts a form to the console on load.
    evil = await listen(
      () =>
        new Response(
          `<form id=f method=post action="${server.url}/console/keys"><input name=name value=evil></form>` +
            "<script>document.getElementById('f').submit()</script>",
          { headers: { "content-type": "text/html" } },
        ),
    );
    browser = await launchChromium();
  });
  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await evil?.close();
    await server?.close();
    await proxy?.close();
  });

  it("a customer signs in with a key, sees every page, and a hostile name and key name stay inert", async () => {
    const created = await proxy.admin("POST", "/admin/customers", {
      name: HOSTILE,
      email: "x@example.com",
      plan_id: "batch",
    });
    const id = (created.json.customer as { id: string }).id;
    const key = (await proxy.admin("POST", `/admin/customers/${id}/keys`)).json.key as string;
    // Some usage and a job, so the pages have data.
    for (const text of ["hello", "a longer sentence to say"]) {
      await proxy.request("/v1/tts", {
        method: "POST",
        headers: { "x-api-key": key, "content-type": "application/json" },
        body: JSON.stringify({ text }),
      });
    }
    await proxy.request("/v1/jobs", {
      method: "POST",
      headers: { "x-api-key": key, "content-type": "application/json" },
      body: JSON.stringify({ items: [{ text: "one" }, { text: "two" }] }),
    });
    now = Date.now();

    const page = await newPage();
    await page.goto(`${server.url}/console/sign-in`);
    await shot(page, "customer-sign-in");
    await signIn(page, "/console", key);
    await page.waitForURL("**/console/usage");
    await expect.poll(() => page.getByRole("heading", { name: "Usage" }).count()).toBe(1);
    expect(await page.locator("svg[role=img] rect").count()).toBeGreaterThan(0);
    await shot(page, "customer-usage");

    await page.goto(`${server.url}/console/keys`);
    await page.getByLabel("Name").fill(HOSTILE);
    await page.getByRole("button", { name: "Create key" }).click();
    await expect.poll(() => page.locator("#new-key").count()).toBe(1);
    expect(await page.locator("#new-key").textContent()).toMatch(/tts_live_/);
    await shot(page, "customer-keys-created");
    await page.goto(`${server.url}/console/keys`);
    expect(await page.locator("#new-key").count()).toBe(0);
    await shot(page, "customer-keys");
    // The hostile markup shows as text, in the header (customer name) and in the key list, and never ran.
    expect(await page.getByText(HOSTILE).count()).toBeGreaterThanOrEqual(2);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();

    for (const name of ["playground", "jobs", "billing"]) {
      await page.goto(`${server.url}/console/${name}`);
      await shot(page, `customer-${name}`);
    }
    await page.goto(`${server.url}/console/jobs`);
    await page.getByRole("link", { name: /^job_/ }).first().click();
    await page.waitForURL("**/console/jobs/job_*");
    await shot(page, "customer-job");
    expect(await accessibilityGaps(page), "a job's page").toEqual([]);

    await page.goto(`${server.url}/console/playground`);
    await page.getByLabel("Text").fill("Hello from the browser test");
    await page.getByRole("radio", { name: "By the 8 sliders" }).check();
    await page.getByRole("button", { name: "Synthesize" }).click();
    await expect.poll(() => page.locator("audio").count()).toBe(1);
    expect(await page.locator("audio").getAttribute("src")).toMatch(/^data:audio\/wav;base64,UklGR/);
    await shot(page, "customer-playground-result");
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  });

  it("serves a strict CSP with a fresh nonce on every page, and no inline style or script runs without it", async () => {
    const page = await newPage();
    const first = await page.goto(`${server.url}/console/sign-in`);
    const csp = first?.headers()["content-security-policy"] ?? "";
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'nonce-[A-Za-z0-9_-]{16,}'/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    const second = await page.goto(`${server.url}/console/sign-in`);
    expect(second?.headers()["content-security-policy"]).not.toBe(csp);
    // An injected inline script is refused by the browser itself.
    const ran = await page.evaluate(() => {
      const s = document.createElement("script");
      s.textContent = "window.__injected = 1";
      document.body.appendChild(s);
      return (window as unknown as { __injected?: number }).__injected;
    });
    expect(ran).toBeUndefined();
    await expect.poll(() => violations.length).toBeGreaterThan(0);
  });

  it("never shows a customer another's data: guessed URLs and swapped ids", async () => {
    const a = await proxy.newCustomer("batch");
    const b = await proxy.newCustomer("batch");
    const jobOfB = await proxy.request("/v1/jobs", {
      method: "POST",
      headers: { "x-api-key": b.key, "content-type": "application/json" },
      body: JSON.stringify({ items: [{ text: "secret of b" }] }),
    });
    const jobId = ((await jobOfB.json()) as { id: string }).id;
    const page = await newPage();
    await signIn(page, "/console", a.key);
    await page.waitForURL("**/console/usage");
    // A guessed job URL of B: 404, nothing of B on the page; a guessed download is refused.
    const job = await page.goto(`${server.url}/console/jobs/${jobId}`);
    expect(job?.status()).toBe(404);
    expect(await page.content()).not.toContain("secret of b");
    await page.goto(`${server.url}/console/jobs`);
    expect(await page.content()).not.toContain(jobId);
    // Swap the id in a revoke form for B's key: B's key stays active.
    await page.goto(`${server.url}/console/keys`);
    await page.evaluate((keyOfB) => {
      const form = document.querySelector<HTMLFormElement>("form[action$='/revoke']");
      if (form) form.action = `/console/keys/${keyOfB}/revoke`;
    }, b.keyId);
    await page
      .getByRole("button", { name: /^Revoke key/ })
      .first()
      .click();
    await page.waitForLoadState();
    expect(await page.content()).toContain("No such key");
    expect((await proxy.request("/v1/keys", { headers: { "x-api-key": b.key } })).status).toBe(200);
    // A cancel of B's job from A's session changes nothing.
    await page.evaluate((id) => {
      const f = document.createElement("form");
      f.method = "post";
      f.action = `/console/jobs/${id}/cancel`;
      const csrf = document.querySelector<HTMLInputElement>("input[name=_csrf]");
      if (csrf) f.appendChild(csrf.cloneNode());
      document.body.appendChild(f);
      f.submit();
    }, jobId);
    await page.waitForLoadState();
    const still = await proxy.request(`/v1/jobs/${jobId}`, { headers: { "x-api-key": b.key } });
    expect(((await still.json()) as { cancelled_at: number | null }).cancelled_at).toBeNull();
  });

  it("requires the CSRF token on state-changing forms, and a cross-site form post does nothing", async () => {
    const a = await proxy.newCustomer("basic");
    const page = await newPage();
    await signIn(page, "/console", a.key);
    await page.waitForURL("**/console/usage");
    await page.goto(`${server.url}/console/keys`);
    await page.evaluate(() => {
      for (const input of document.querySelectorAll<HTMLInputElement>("input[name=_csrf]")) input.remove();
    });
    await page.getByLabel("Name").fill("no-token");
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST"),
      page.getByRole("button", { name: "Create key" }).click(),
    ]);
    expect(refused.status()).toBe(403);
    // From another site: the SameSite=Strict cookie is not sent, so the post lands on sign-in and creates nothing.
    await page.goto(evil.url.replace("127.0.0.1", "localhost"));
    await page.waitForURL("**/console/sign-in");
    const keys = await proxy.stores.keys.listForCustomer(a.id);
    expect(keys.map((k) => k.name)).not.toContain("evil");
    expect(keys.map((k) => k.name)).not.toContain("no-token");
  });

  it("expires sessions on the server's clock, and signs out", async () => {
    const a = await proxy.newCustomer("basic");
    const page = await newPage();
    await signIn(page, "/console", a.key);
    await page.waitForURL("**/console/usage");
    now += 8 * 3_600_000; // the session's lifetime, on the injected clock
    await page.goto(`${server.url}/console/keys`);
    await page.waitForURL("**/console/sign-in");
    now = Date.now();

    await signIn(page, "/console", a.key);
    await page.waitForURL("**/console/usage");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL("**/console/sign-in");
    await page.goto(`${server.url}/console/usage`);
    await page.waitForURL("**/console/sign-in");
    // A wrong key: an error, no session.
    await signIn(page, "/console", "tts_live_00000000000000000000000000000000");
    expect(await page.getByRole("alert").textContent()).toContain("unknown");
    await shot(page, "customer-sign-in-error");
  });

  it("is usable from the keyboard: skip link first, then the navigation; sign-in by Enter", async () => {
    const a = await proxy.newCustomer("basic");
    const page = await newPage();
    await page.goto(`${server.url}/console/sign-in`);
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    await page.getByLabel("API key").focus();
    await page.keyboard.type(a.key);
    await page.keyboard.press("Enter");
    await page.waitForURL("**/console/usage");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Usage");
    // every form control labelled, every button named, every table header scoped, on every customer page
    for (const path of [
      "/console/usage",
      "/console/keys",
      "/console/playground",
      "/console/jobs",
      "/console/billing",
    ]) {
      await page.goto(`${server.url}${path}`);
      expect(await accessibilityGaps(page), path).toEqual([]);
    }
  });

  it("an admin signs in with the token and sees every admin page", async () => {
    const page = await newPage();
    await page.goto(`${server.url}/admin/console/sign-in`);
    await shot(page, "admin-sign-in");
    await signIn(page, "/admin/console", "wrong-token");
    expect(await page.getByRole("alert").textContent()).toContain("not the admin token");
    await signIn(page, "/admin/console", ADMIN_TOKEN);
    await page.waitForURL("**/admin/console/customers");
    expect(await page.getByText(HOSTILE).count()).toBeGreaterThan(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await shot(page, "admin-customers");
    await page.getByRole("link", { name: HOSTILE }).first().click();
    await shot(page, "admin-customer");
    expect(await accessibilityGaps(page), "admin customer").toEqual([]);
    for (const name of ["customers", "plans", "capacity", "nodes", "revenue", "billing"]) {
      await page.goto(`${server.url}/admin/console/${name}`);
      if (name !== "customers") await shot(page, `admin-${name}`);
      expect(await accessibilityGaps(page), name).toEqual([]);
    }
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL("**/admin/console/sign-in");
  });

  it("serves the interactive API reference from its own files, under a nonce CSP, with copyable examples", async () => {
    const page = await newPage();
    const before = violations.length;
    const outside: string[] = [];
    page.on("request", (r) => {
      if (!r.url().startsWith(server.url) && !r.url().startsWith("data:")) outside.push(r.url());
    });
    const res = await page.goto(`${server.url}/docs`);
    expect(res?.headers()["content-security-policy"]).toMatch(/script-src 'nonce-/);
    await page.locator(".opblock-summary-path", { hasText: "/v1/tts" }).first().waitFor();
    expect(await page.locator(".opblock").count()).toBeGreaterThan(20);
    for (const label of ["curl", "JavaScript", "Python", "OpenAI SDK (Python)", "OpenAI SDK (JavaScript)"]) {
      expect(await page.getByText(label, { exact: true }).count(), label).toBe(1);
    }
    expect(await page.locator("#ex-openai-py").textContent()).toContain(`base_url="${server.url}/v1"`);
    await shot(page, "docs");
    expect(outside).toEqual([]);
    expect(violations.slice(before)).toEqual([]);
    expect((await page.request.get(`${server.url}/docs/assets/..%2Fpackage.json`)).status()).toBe(404);
  });
});
