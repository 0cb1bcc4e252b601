import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rateUsage } from "../../billing/src/rating/rate.ts";
import { createSqlBillingStores } from "../../billing/src/store/sql/index.ts";
import { addCustomer, seedPlans } from "../../billing/src/testing/world.ts";
import {
  type RunningStripeTestServer,
  startStripeTestServer,
  TEST_SECRET_KEY,
} from "../../billing/testing/stripe-server/index.ts";
import { closeSqlite, createSqliteStores, openSqlite } from "../../proxy/src/adapters/sqlite/index.ts";
import { ManualClock } from "../../proxy/src/store/testing/harness.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLI = join(ROOT, "scripts/billing-reconcile.ts");
const TSX = join(ROOT, "node_modules/.bin/tsx");

function run(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(TSX, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("npm run billing:reconcile", () => {
  let dir: string;
  let dbPath: string;
  let stripe: RunningStripeTestServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "billing-cli-"));
    dbPath = join(dir, "proxy.db");
    // A database as the proxy leaves it: plans, customers, a month of rated usage (in 2025, long closed).
    const clock = new ManualClock(Date.UTC(2025, 4, 1));
    const db = openSqlite(dbPath);
    const stores = createSqliteStores(db, { clock });
    createSqlBillingStores(db, { clock });
    await seedPlans(stores.plans, { timeZone: "UTC" });
    await addCustomer(stores, "cus_cli", "basic");
    const key = await stores.keys.issueKey("cus_cli");
    const version = await stores.plans.versionAt("basic", Date.UTC(2025, 5, 2));
    if (!key.ok || !version) throw new Error("seed failed");
    const events = [Date.UTC(2025, 5, 2, 10), Date.UTC(2025, 5, 2, 20)].map((at, i) => {
      const rated = rateUsage({
        tokens: 12_345,
        plan: "basic",
        atMs: at,
        version: {
          unitPriceMicrosPer1k: 20_000,
          peakMultiplierBp: 15_000,
          batchDiscountBp: 3_500,
          peakWindows: version.peakWindows,
          timeZone: "UTC",
        },
      });
      return {
        requestId: `req_cli_${i}`,
        customerId: "cus_cli",
        apiKeyId: key.value.id,
        planId: "basic",
        priceVersionId: version.id,
        occurredAt: at,
        audioMs: 1,
        tokens: 12_345,
        inputChars: 1,
        peak: rated.peak,
        multiplierBp: rated.multiplierBp,
        amountMicros: rated.amountMicros,
        currency: "USD",
        nodeId: null,
        priority: "interactive" as const,
      };
    });
    await stores.ledger.append(events);
    closeSqlite(db);
    stripe = await startStripeTestServer();
    env = { STRIPE_SECRET_KEY: TEST_SECRET_KEY, STRIPE_API_BASE: stripe.url, BILLING_SETTLE_MINUTES: "0" };
  });
  afterAll(async () => {
    await stripe.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("--help explains the command and exits 0", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: npm run billing:reconcile -- --period YYYY-MM/);
    expect(r.stdout).toMatch(/STRIPE_SECRET_KEY/);
  });

  it.each([
    [[], /--period YYYY-MM is required/],
    [["--period", "2025-13"], /--period must be YYYY-MM/],
    [["--period", "2025-06", "--bogus"], /Unknown option/],
    [["--period", "2025-06", "--db", "/nonexistent/x.db"], /no database/],
  ])("bad usage %j exits 2 with a message", async (args, message) => {
    const r = await run(args as string[], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it("invoices the period in Stripe, prints the report, and a re-run creates nothing new", async () => {
    const first = await run(["--period", "2025-06", "--db", dbPath], env);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    // 12,345 tokens at peak (370,350 micros) + off-peak (246,900): 617,250 micros → 61 cents, 7,250 carried.
    expect(first.stdout).toMatch(/cus_cli\s+reconciled\s+USD\s+0\.61725\s+0\s+0\.61\s+0\.00725\s+yes/);
    expect(first.stdout).toMatch(/^OK: every invoice equals its ledger total/m);
    const invoices = [...stripe.state.invoices.values()];
    expect(invoices.map((i) => [i.status, i.total])).toEqual([["open", 61]]);
    const mutations = stripe.mutations().length;

    const again = await run(["--period", "2025-06", "--db", dbPath, "--json"], env);
    expect(again.code).toBe(0);
    const report = JSON.parse(again.stdout) as { ok: boolean; customers: { state: string; equal: boolean }[] };
    expect(report).toMatchObject({ ok: true, customers: [{ state: "reconciled", equal: true }] });
    expect(stripe.mutations().length).toBe(mutations);

    const recorded = await run(["--period", "2025-06", "--db", dbPath, "--report-only"], { STRIPE_SECRET_KEY: "" });
    expect(recorded.code).toBe(0);
    expect(recorded.stdout).toMatch(/cus_cli\s+reconciled/);
  });
});
