/**
 * Console page times on the embedded stack: SQLite (WAL, as `npm start`) holding 1,000 customers and 1,000,000 usage
 * rows spread over the last 60 days, the app in process. Each page is requested `--runs` times through `app.request`
 * with a signed-in session (so the time is the server's: routing, session check, queries, rendering; no network).
 * Reported per page: median, p95 and max in ms, and the median CPU time of this process per request (the server's own
 * work, which a loaded machine's waits for a core do not inflate). Target: every page under 50 ms.
 *
 *   npm run bench:console -- [--customers 1000] [--rows 1000000] [--days 60] [--warmup 20] [--runs 30] [--json out.json]
 */
import { writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createSqliteStores, openSqlite } from "../src/adapters/sqlite/index.ts";
import { ConsoleClient } from "../src/console/testing/browserless.ts";
import { ADMIN_TOKEN, createInProcessProxy } from "../src/testing/stack.ts";

const { values: args } = parseArgs({
  options: {
    customers: { type: "string", default: "1000" },
    rows: { type: "string", default: "1000000" },
    days: { type: "string", default: "60" },
    runs: { type: "string", default: "30" },
    warmup: { type: "string", default: "20" },
    json: { type: "string" },
  },
});
const CUSTOMERS = Number(args.customers);
const ROWS = Number(args.rows);
const DAYS = Number(args.days);
const RUNS = Number(args.runs);
/** Requests per page before timing: a server that has run a while has its code paths compiled (JIT). */
const WARMUP = Number(args.warmup);
const DAY_MS = 86_400_000;

async function main() {
  const dir = await mkdtemp(join(tmpdir(), "bench-console-"));
  const db = openSqlite(join(dir, "proxy.db"));
  const stores = createSqliteStores(db);
  const proxy = await createInProcessProxy({
    stores,
    jobs: true,
    config: { ipPolicy: { ratePerSecond: 1e9, burst: 1e9 }, consoleSignInPolicy: { ratePerSecond: 1e9, burst: 1e9 } },
  });
  try {
    if (process.env.BENCH_KEEP_DB) console.log(`database: ${join(dir, "proxy.db")}`);
    const t0 = performance.now();
    const plans = ["basic", "batch", "enterprise"];
    const versions = new Map<string, string>();
    for (const p of plans) versions.set(p, (await stores.plans.versionAt(p, Date.now()))?.id ?? "");
    const customers: { id: string; keyId: string; key: string; plan: string }[] = [];
    for (let i = 0; i < CUSTOMERS; i++) {
      const plan = plans[i % 3] as string;
      const c = await stores.customers.createCustomer({
        name: `Customer ${i}`,
        email: `c${i}@example.com`,
        planId: plan,
      });
      if (!c.ok) throw new Error(c.message);
      const k = await stores.keys.issueKey(c.value.id, "bench");
      if (!k.ok) throw new Error(k.message);
      customers.push({ id: c.value.id, keyId: k.value.id, key: k.value.key, plan });
    }
    // Usage rows straight through one prepared statement (the ledger's own append is measured by bench:ledger).
    const insert = db.$client.prepare(
      `insert into usage_events (request_id, customer_id, api_key_id, plan_id, price_version_id, occurred_at, audio_ms,
        tokens, input_chars, peak, multiplier_bp, amount_micros, currency, node_id, priority)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const now = Date.now();
    const insertMany = db.$client.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        // In time order, as the ledger appends them; customers interleaved.
        const c = customers[(i * 7919) % CUSTOMERS] as (typeof customers)[number];
        const at = now - DAYS * DAY_MS + Math.floor(i * ((DAYS * DAY_MS) / ROWS));
        const peak = i % 4 === 0 ? 1 : 0;
        const tokens = 50 + (i % 400);
        insert.run(
          `req_bench_${i}`,
          c.id,
          c.keyId,
          c.plan,
          versions.get(c.plan),
          at,
          tokens * 20,
          tokens,
          Math.floor(tokens / 2),
          peak,
          peak ? 15_000 : 10_000,
          tokens * (peak ? 30 : 20),
          "USD",
          "node0",
          "interactive",
        );
      }
    });
    for (let i = 0; i < ROWS; i += 50_000) insertMany(i, Math.min(ROWS, i + 50_000));
    db.$client.pragma("wal_checkpoint(TRUNCATE)");
    db.$client.exec("analyze");
    const seeded = (performance.now() - t0) / 1000;
    // The rows went in beside the ledger's append, so fold them into the rollups now, as the running server's
    // periodic fold would have (timed: the cost of catching up on 1 M rows at once).
    const f0 = performance.now();
    const folded = (await stores.reports?.catchUp()) ?? 0;
    const foldS = (performance.now() - f0) / 1000;

    const who = customers[7] as (typeof customers)[number];
    const customer = new ConsoleClient(proxy.request);
    if ((await customer.signIn("/console", who.key)).status !== 303) throw new Error("customer sign-in failed");
    const admin = new ConsoleClient(proxy.request);
    if ((await admin.signIn("/admin/console", ADMIN_TOKEN)).status !== 303) throw new Error("admin sign-in failed");
    const planCsrf = ConsoleClient.csrf(await (await admin.get("/admin/console/plans")).text());

    const pages: [string, () => Promise<Response>][] = [
      ["GET /console/usage (30 days)", () => customer.get("/console/usage")],
      ["GET /console/usage?days=90", () => customer.get("/console/usage?days=90")],
      ["GET /console/usage.csv (30 days)", () => customer.get("/console/usage.csv")],
      ["GET /console/keys", () => customer.get("/console/keys")],
      ["GET /console/playground", () => customer.get("/console/playground")],
      ["GET /console/jobs", () => customer.get("/console/jobs")],
      ["GET /console/billing", () => customer.get("/console/billing")],
      ["GET /admin/console/customers", () => admin.get("/admin/console/customers")],
      ["GET /admin/console/customers?after=…", () => admin.get(`/admin/console/customers?after=${customers[500]?.id}`)],
      [`GET /admin/console/customers/{id}`, () => admin.get(`/admin/console/customers/${who.id}`)],
      ["GET /admin/console/plans", () => admin.get("/admin/console/plans")],
      [
        "POST /admin/console/plans/basic/versions (preview)",
        () =>
          admin.post("/admin/console/plans/basic/versions", {
            _csrf: planCsrf,
            step: "preview",
            unit_price: "25000",
            peak_multiplier_bp: "15000",
            peak_windows: "1-5 09:00-18:00",
          }),
      ],
      ["GET /admin/console/capacity", () => admin.get("/admin/console/capacity")],
      ["GET /admin/console/nodes", () => admin.get("/admin/console/nodes")],
      ["GET /admin/console/revenue (this month)", () => admin.get("/admin/console/revenue")],
      [
        "GET /admin/console/revenue?period=(last month)",
        () =>
          admin.get(
            `/admin/console/revenue?period=${new Date(Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth() - 1, 1)).toISOString().slice(0, 7)}`,
          ),
      ],
      ["GET /admin/console/billing", () => admin.get("/admin/console/billing")],
    ];
    const results: {
      page: string;
      status: number;
      medianMs: number;
      p95Ms: number;
      maxMs: number;
      cpuMedianMs: number;
    }[] = [];
    const quantile = (sorted: number[], q: number) =>
      sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
    for (const [page, run] of pages) {
      const times: number[] = [];
      // CPU time of this process per request (user + system): the request runs on this thread, SQLite included, so
      // it is the server's work without the time spent waiting for a core that other processes hold.
      const cpu: number[] = [];
      let status = 0;
      for (let i = 0; i < RUNS + WARMUP; i++) {
        const c0 = process.cpuUsage();
        const t = performance.now();
        const res = await run();
        await res.arrayBuffer();
        status = res.status;
        if (i >= WARMUP) {
          times.push(performance.now() - t);
          const used = process.cpuUsage(c0);
          cpu.push((used.user + used.system) / 1000);
        }
      }
      times.sort((a, b) => a - b);
      cpu.sort((a, b) => a - b);
      results.push({
        page,
        status,
        medianMs: quantile(times, 0.5),
        p95Ms: quantile(times, 0.95),
        maxMs: times.at(-1) as number,
        cpuMedianMs: quantile(cpu, 0.5),
      });
    }
    const rows = db.$client.prepare("select count(*) as n from usage_events").get() as { n: number };
    console.log(
      `console pages: ${CUSTOMERS} customers, ${rows.n} usage rows over ${DAYS} days (seeded in ${seeded.toFixed(0)} s), ` +
        `rollups folded from ${folded} rows in ${foldS.toFixed(1)} s, ` +
        `${WARMUP} warm-up and ${RUNS} timed requests each, load average ${loadavg()
          .map((l) => l.toFixed(2))
          .join(" ")}\n`,
    );
    console.log("| page | status | median ms | p95 ms | max ms | CPU median ms |\n|---|---|---|---|---|---|");
    for (const r of results) {
      console.log(
        `| ${r.page} | ${r.status} | ${r.medianMs.toFixed(1)} | ${r.p95Ms.toFixed(1)} | ${r.maxMs.toFixed(1)} | ${r.cpuMedianMs.toFixed(1)} |`,
      );
    }
    const over = results.filter((r) => r.p95Ms >= 50);
    console.log(
      over.length === 0 ? "\nevery page's p95 < 50 ms" : `\nover 50 ms at p95: ${over.map((r) => r.page).join(", ")}`,
    );
    if (args.json) writeFileSync(args.json, JSON.stringify({ customers: CUSTOMERS, rows: rows.n, results }, null, 2));
  } finally {
    await proxy.close();
    db.$client.close();
    if (!process.env.BENCH_KEEP_DB) await rm(dir, { recursive: true, force: true });
  }
}

await main();
