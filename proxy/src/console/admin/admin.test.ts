import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, createInProcessProxy } from "../../testing/stack.ts";
import { ConsoleClient } from "../testing/browserless.ts";

type Proxy = Awaited<ReturnType<typeof createInProcessProxy>>;

/** The admin console over app.request: sign-in, every page, and each write landing through the admin API. */
describe("admin console", () => {
  let proxy: Proxy;
  let admin: ConsoleClient;
  const csrfOf = async (path: string) => ConsoleClient.csrf(await (await admin.get(path)).text());

  beforeAll(async () => {
    proxy = await createInProcessProxy({
      config: {
        ipPolicy: { ratePerSecond: 10_000, burst: 10_000 },
        consoleSignInPolicy: { ratePerSecond: 1, burst: 50 },
      },
    });
    admin = new ConsoleClient(proxy.request);
    expect((await admin.signIn("/admin/console", ADMIN_TOKEN)).status).toBe(303);
  });
  afterAll(() => proxy.close());

  it("refuses a wrong token and a customer key", async () => {
    const customer = await proxy.newCustomer("basic");
    expect((await new ConsoleClient(proxy.request).signIn("/admin/console", "nope")).status).toBe(401);
    expect((await new ConsoleClient(proxy.request).signIn("/admin/console", customer.key)).status).toBe(401);
    // a customer console session does not open the admin console
    const client = new ConsoleClient(proxy.request);
    await client.signIn("/console", customer.key);
    expect((await client.get("/admin/console/customers")).status).toBe(303);
  });

  it("serves every page", async () => {
    for (const page of ["customers", "plans", "capacity", "nodes", "revenue", "billing"]) {
      const r = await admin.get(`/admin/console/${page}`);
      expect(r.status, page).toBe(200);
      expect(r.headers.get("content-security-policy")).toContain("default-src 'none'");
    }
  });

  it("creates a customer, changes its plan, suspends and restores it, issues and revokes a key", async () => {
    let csrf = await csrfOf("/admin/console/customers");
    const created = await admin.post("/admin/console/customers", {
      _csrf: csrf,
      name: "Console Co",
      email: "c@example.com",
      plan_id: "basic",
    });
    expect(created.status).toBe(303);
    const path = (created.headers.get("location") ?? "").split("?")[0] ?? "";
    const id = path.split("/").at(-1) ?? "";
    expect((await proxy.stores.customers.getCustomer(id))?.name).toBe("Console Co");
    csrf = await csrfOf(path);
    expect((await admin.post(`${path}/plan`, { _csrf: csrf, plan_id: "batch" })).status).toBe(303);
    expect((await proxy.stores.customers.getCustomer(id))?.planId).toBe("batch");
    await admin.post(`${path}/suspend`, { _csrf: csrf, reason: "unpaid" });
    expect((await proxy.stores.customers.getCustomer(id))?.status).toBe("suspended");
    await admin.post(`${path}/restore`, { _csrf: csrf });
    expect((await proxy.stores.customers.getCustomer(id))?.status).toBe("active");
    const issued = await admin.post(`${path}/keys`, { _csrf: csrf });
    expect(await issued.text()).toMatch(/tts_live_[0-9A-Za-z]{32}/);
    const [key] = await proxy.stores.keys.listForCustomer(id);
    await admin.post(`${path}/keys/${key?.id}/revoke`, { _csrf: csrf });
    expect((await proxy.stores.keys.listForCustomer(id))[0]?.revokedAt).not.toBeNull();
  });

  it("loads a capacity report and applies its prices as new versions", async () => {
    const report = {
      title: "test run",
      articleTable: [{ users: 1, avgLatencyMs: 900, p95LatencyMs: 1200, rps: 1.1, msPerToken: 9, errorRate: 0 }],
      cost: {
        currency: "USD",
        cost: { per1kTokensMicros: 5_000, perAudioMinuteMicros: 15_000 },
        basic: { per1kTokensMicros: 12_345, perAudioMinuteMicros: 37_035 },
        batch: { per1kTokensMicros: 8_000, perAudioMinuteMicros: 24_000, discountBp: 3_000 },
        peak: { multiplierBp: 12_500, note: "measured" },
        enterprise: { monthlyFeeMicros: 900_000_000, includedTokens: 1_000_000, overagePer1kMicros: 11_000 },
        warnings: [],
      },
    };
    let csrf = await csrfOf("/admin/console/capacity");
    const loaded = await admin.post("/admin/console/capacity/load", { _csrf: csrf, report: JSON.stringify(report) });
    const html = await loaded.text();
    expect(html).toContain("0.012345 USD");
    csrf = ConsoleClient.csrf(html);
    const applied = await admin.post("/admin/console/capacity/apply", { _csrf: csrf, report: JSON.stringify(report) });
    expect(applied.status).toBe(303);
    expect((await proxy.stores.plans.listVersions("basic")).at(-1)?.unitPriceMicrosPer1kTokens).toBe(12_345);
    // The same report as an uploaded file (multipart), as the page's file input sends it.
    const form = new FormData();
    form.set("_csrf", csrf);
    form.set("report_file", new File([JSON.stringify(report)], "report.json", { type: "application/json" }));
    const uploaded = await admin.fetch("/admin/console/capacity/load", {
      method: "POST",
      headers: { origin: "http://localhost" },
      body: form,
    });
    expect(await uploaded.text()).toContain("0.012345 USD");
    const bad = await admin.post("/admin/console/capacity/load", { _csrf: csrf, report: "{}" });
    expect(await bad.text()).toContain("no cost section");
  });

  it("adds, drains, undrains and removes a node", async () => {
    const csrf = await csrfOf("/admin/console/nodes");
    const added = await admin.post("/admin/console/nodes", {
      _csrf: csrf,
      url: "http://10.9.9.9:8000",
      pool: "shared",
      weight: "2",
    });
    expect(added.headers.get("location")).toContain("ok=");
    const node = (await proxy.stores.nodes.list()).find((n) => n.url === "http://10.9.9.9:8000");
    expect(node?.weight).toBe(2);
    const id = node?.id ?? "";
    expect(await (await admin.get("/admin/console/nodes")).text()).toContain(id);
    await admin.post(`/admin/console/nodes/${id}/drain`, { _csrf: csrf });
    expect((await proxy.stores.nodes.get(id))?.state).toBe("draining");
    await admin.post(`/admin/console/nodes/${id}/activate`, { _csrf: csrf });
    expect((await proxy.stores.nodes.get(id))?.state).toBe("active");
    await admin.post(`/admin/console/nodes/${id}/remove`, { _csrf: csrf });
    expect((await proxy.stores.nodes.get(id))?.state).toBe("removed");
  });
  /** Usage rows of a fresh customer of the plan on the 2nd of last month (UTC), straight into the ledger. */
  async function appendLastMonth(planId: string, rows: { tokens: number; peak: boolean; amountMicros: number }[]) {
    const customer = await proxy.newCustomer(planId);
    const version = (await proxy.stores.plans.listVersions(planId))[0];
    const now = new Date();
    const at = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 2, 12);
    await proxy.stores.ledger.append(
      rows.map((r, i) => ({
        requestId: `req_last_month_${customer.id}_${i}`,
        customerId: customer.id,
        apiKeyId: customer.keyId,
        planId,
        priceVersionId: version?.id ?? "",
        occurredAt: at + i,
        audioMs: r.tokens * 20,
        tokens: r.tokens,
        inputChars: 10,
        peak: r.peak,
        multiplierBp: r.peak ? 15_000 : 10_000,
        amountMicros: r.amountMicros,
        currency: "USD",
        nodeId: null,
        priority: "interactive" as const,
      })),
    );
    return { customer, day: new Date(at).toISOString().slice(0, 10), month: new Date(at).toISOString().slice(0, 7) };
  }

  it("shows revenue and usage by day, plan and customer for a month", async () => {
    const { customer, day, month } = await appendLastMonth("batch", [
      { tokens: 100, peak: false, amountMicros: 2_000_000 },
      { tokens: 50, peak: true, amountMicros: 1_500_000 },
    ]);
    const page = await (await admin.get(`/admin/console/revenue?period=${month}`)).text();
    expect(page).toContain("Revenue per day in USD, by plan");
    expect(page).toMatch(new RegExp(`<td>${day}</td><td>batch</td><td class="n">\\d+</td>`));
    expect(page).toContain(`<a href="/admin/console/customers/${customer.id}">${customer.id}</a>`);
    expect(page).toContain("3.50 USD");
  });

  it("previews and creates a price version effective later, with peak windows", async () => {
    const csrf = await csrfOf("/admin/console/plans");
    const fields = {
      _csrf: csrf,
      unit_price: "30000",
      peak_multiplier_bp: "15000",
      batch_discount_bp: "0",
      monthly_fee_micros: "0",
      included_tokens: "0",
      peak_windows: "1-5 08:00-20:00",
      effective: "2099-01-01T00:00",
    };
    // last month's usage of the plan: 1,001 tokens off-peak, 333 at peak (charged 7 and 5 micros when it happened)
    await appendLastMonth("basic", [
      { tokens: 1_001, peak: false, amountMicros: 7 },
      { tokens: 333, peak: true, amountMicros: 5 },
    ]);
    const preview = await admin.post("/admin/console/plans/basic/versions", { ...fields, step: "preview" });
    expect(preview.status).toBe(200);
    // each event re-rated: 1,001 × 30,000 / 1,000 = 30,030 micros; 333 × 30,000 × 1.5 / 1,000 = 14,985 micros
    expect(await preview.text()).toContain(
      "1,334 tokens (333 at peak) cost 0.000012 USD; under this version 0.045015 USD",
    );
    const negative = await admin.post("/admin/console/plans/basic/versions", {
      ...fields,
      batch_discount_bp: "20000",
      step: "preview",
    });
    expect(negative.status).toBe(400);
    const before = (await proxy.stores.plans.listVersions("basic")).length;
    const created = await admin.post("/admin/console/plans/basic/versions", { ...fields, step: "create" });
    expect(created.status).toBe(303);
    const versions = await proxy.stores.plans.listVersions("basic");
    expect(versions.length).toBe(before + 1);
    expect(versions.at(-1)).toMatchObject({
      unitPriceMicrosPer1kTokens: 30_000,
      peakMultiplierBp: 15_000,
      effectiveFrom: Date.UTC(2099, 0, 1),
      peakWindows: [{ days: [1, 2, 3, 4, 5], start: "08:00", end: "20:00" }],
    });
    const bad = await admin.post("/admin/console/plans/basic/versions", { ...fields, peak_windows: "weekdays" });
    expect(bad.status).toBe(400);
  });
});
