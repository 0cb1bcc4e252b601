import { describe, expect, it } from "vitest";
import type { UsageLedger } from "../../store/ports.ts";
import { ManualClock, seedCustomer, usageEvent } from "../../store/testing/harness.ts";
import { createSqliteStores, openSqlite } from "../sqlite/index.ts";
import { createOpsMetrics, STUCK_AFTER_REPLAYS } from "./ops-metrics.ts";

function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("ops metrics (ledger commits, billing runs, usage dead letters)", () => {
  it("times each ledger append by outcome and passes its result or error through", async () => {
    const db = openSqlite(":memory:");
    const clock = new ManualClock();
    const stores = createSqliteStores(db, { clock });
    const ops = createOpsMetrics(db);
    const s = await seedCustomer(stores, clock);
    const ledger = ops.timedLedger(stores.ledger);
    const outcomes = await ledger.append([usageEvent(s, { requestId: "r1" }), usageEvent(s, { requestId: "r2" })]);
    expect(outcomes).toHaveLength(2);
    const broken: UsageLedger = { ...stores.ledger, append: () => Promise.reject(new Error("disk full")) };
    await expect(ops.timedLedger(broken).append([usageEvent(s, { requestId: "r3" })])).rejects.toThrow("disk full");
    const text = await ops.registry.metrics();
    expect(sample(text, 'proxy_ledger_commit_seconds_count{outcome="ok"}')).toBe(1);
    expect(sample(text, 'proxy_ledger_commit_seconds_count{outcome="error"}')).toBe(1);
    expect(sample(text, "proxy_ledger_committed_events_total")).toBe(2);
    expect((await ledger.totals({ customerId: s.customer.id, fromMs: 0, toMs: Date.UTC(2100, 0) }))[0]?.events).toBe(2);
  });

  it("counts billing runs: every report ok, a report not ok, a thrown run; a skipped run is not counted", async () => {
    const db = openSqlite(":memory:");
    const ops = createOpsMetrics(db, () => 1_700_000_000_000);
    const report = (ok: boolean) => ({ period: "2026-01", generated_at: "", customers: [], totals: [], ok });
    ops.billingRun({ run: { suspended: [], subscriptions: [], reports: [report(true)] } });
    ops.billingRun({ run: { suspended: [], subscriptions: [], reports: [report(true), report(false)] } });
    ops.billingRun({ run: { suspended: [], subscriptions: [], reports: [], skipped: "already running" } });
    let text = await ops.registry.metrics();
    expect(sample(text, 'billing_reconcile_runs_total{outcome="ok"}')).toBe(1);
    expect(sample(text, 'billing_reconcile_runs_total{outcome="failed"}')).toBe(1);
    expect(sample(text, "billing_reconcile_last_run_ok")).toBe(0);
    expect(sample(text, "billing_reconcile_last_run_timestamp_seconds")).toBe(1_700_000_000);
    ops.billingRun({ error: new Error("stripe down") });
    text = await ops.registry.metrics();
    expect(sample(text, 'billing_reconcile_runs_total{outcome="error"}')).toBe(1);
  });

  it("reads open usage dead letters from the database at scrape, stuck ones apart", async () => {
    const db = openSqlite(":memory:");
    const ops = createOpsMetrics(db);
    const insert = db.$client.prepare(
      `INSERT INTO queue_dead_letters (queue, message_id, kind, body, attempts, received_at, replay_attempts, resolved_at)
       VALUES ('usage-dlq', ?, ?, '{}', 1, 0, ?, ?)`,
    );
    insert.run("m1", "usage", 0, null);
    insert.run("m2", "usage", STUCK_AFTER_REPLAYS, null);
    insert.run("m3", "usage", STUCK_AFTER_REPLAYS + 2, 123); // resolved
    insert.run("m4", "job", STUCK_AFTER_REPLAYS, null); // not usage
    const text = await ops.registry.metrics();
    expect(sample(text, 'proxy_usage_dead_letters_open{stuck="true"}')).toBe(1);
    expect(sample(text, 'proxy_usage_dead_letters_open{stuck="false"}')).toBe(1);
  });
});
