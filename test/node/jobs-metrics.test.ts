import { afterEach, describe, expect, it } from "vitest";
import { startSlotNode } from "../../proxy/src/jobs/testing/slot-node.ts";
import { startJobsStack } from "../../proxy/src/jobs/testing/stack.ts";
import { ADMIN_TOKEN } from "../../proxy/src/testing/stack.ts";

type Stack = Awaited<ReturnType<typeof startJobsStack>>;
type JobJson = { id: string; status: string; counts: { done: number; cancelled: number; failed: number } };

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close();
});

/** `name{labels} value` lines of a Prometheus text exposition, by `name{labels}` (no labels: the bare name). */
function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^([a-z_:][a-z0-9_:]*)(\{[^}]*\})? (\S+)$/i.exec(line);
    if (m) out.set(`${m[1]}${m[2] ?? ""}`, Number(m[3]));
  }
  return out;
}

describe("job metrics on /metrics (real worker, slot node on 127.0.0.1)", () => {
  it("shows jobs and items by state and counts items processed, retried and charged", async () => {
    const slot = await startSlotNode({ serviceMs: 20, audioMs: 1000 });
    open.push(slot);
    const stack = await startJobsStack([slot.url], {
      jobs: {
        maxAttempts: 2,
        backoffBaseMs: 10,
        backoffMaxMs: 20,
        pollMs: 10,
        peakRecheckMs: 0,
        capacity: { headroomSlots: 0, maxPerNode: 2, staleAfterMs: 15_000 },
      },
    });
    open.push(stack);
    const customer = await stack.newCustomer("batch");
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${stack.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${customer.key}`, "content-type": "application/json" },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return (await res.json()) as JobJson;
    };
    const finished = async (id: string) => {
      const until = Date.now() + 20_000;
      for (;;) {
        const job = await call("GET", `/v1/jobs/${id}`);
        if (!["queued", "running"].includes(job.status)) return job;
        if (Date.now() > until) throw new Error(`job ${id} stuck: ${JSON.stringify(job)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    const metrics = async (s: Stack) => {
      const res = await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(res.status).toBe(200);
      return parseExposition(await res.text());
    };

    // Before any job: every state and outcome is exposed, at zero.
    const empty = await metrics(stack);
    for (const state of ["queued", "running", "succeeded", "failed", "cancelled", "completed_with_errors"]) {
      expect(empty.get(`proxy_jobs{state="${state}"}`), state).toBe(0);
    }
    for (const state of ["queued", "running", "done", "failed", "dead_lettered", "cancelled"]) {
      expect(empty.get(`proxy_job_items{state="${state}"}`), state).toBe(0);
    }
    expect(empty.get('proxy_job_items_processed_total{outcome="done"}')).toBe(0);

    // A: every item's first attempt fails, the retry succeeds.
    slot.control.failFirst = true;
    const a = await finished((await call("POST", "/v1/jobs", { items: [{ text: "a0" }, { text: "a1" }] })).id);
    expect(a.status).toBe("succeeded");
    // B: every attempt fails: dead-lettered after 2.
    slot.control.failFirst = false;
    slot.control.failEvery = 1;
    const b = await finished((await call("POST", "/v1/jobs", { items: [{ text: "doomed" }] })).id);
    expect(b.status).toBe("failed");
    // C: cancelled while it runs (2 at a time, 20 ms each): some items done, the rest cancelled.
    slot.control.failEvery = 0;
    const created = await call("POST", "/v1/jobs", {
      items: Array.from({ length: 40 }, (_, i) => ({ text: `c${i}` })),
    });
    // cancel once it is under way (some item done), however slow the machine
    const underWayBy = Date.now() + 30_000;
    while ((await call("GET", `/v1/jobs/${created.id}`)).counts.done === 0 && Date.now() < underWayBy)
      await new Promise((r) => setTimeout(r, 5));
    await call("DELETE", `/v1/jobs/${created.id}`);
    const c = await finished(created.id);
    expect(c.status).toBe("cancelled");
    expect(c.counts.cancelled).toBeGreaterThan(0);
    await stack.worker.idle();
    const cDone = (await call("GET", `/v1/jobs/${created.id}`)).counts.done;

    const m = await metrics(stack);
    expect(m.get('proxy_jobs{state="succeeded"}')).toBe(1);
    expect(m.get('proxy_jobs{state="failed"}')).toBe(1);
    expect(m.get('proxy_jobs{state="cancelled"}')).toBe(1);
    expect(m.get('proxy_jobs{state="queued"}')).toBe(0);
    expect(m.get('proxy_jobs{state="running"}')).toBe(0);
    const done = 2 + cDone;
    expect(m.get('proxy_job_items{state="done"}')).toBe(done);
    expect(m.get('proxy_job_items{state="dead_lettered"}')).toBe(1);
    expect(m.get('proxy_job_items{state="failed"}')).toBe(0);
    expect(m.get('proxy_job_items{state="cancelled"}')).toBe(c.counts.cancelled);
    expect(m.get('proxy_job_items{state="queued"}')).toBe(0);
    expect(m.get('proxy_job_items_processed_total{outcome="done"}')).toBe(done);
    expect(m.get('proxy_job_items_processed_total{outcome="dead_lettered"}')).toBe(1);
    expect(m.get('proxy_job_items_processed_total{outcome="cancelled"}')).toBe(c.counts.cancelled);
    expect(m.get('proxy_job_items_processed_total{outcome="failed"}')).toBe(0);
    // A's two first attempts and B's first: queued again; B's second: dead-lettered.
    expect(m.get("proxy_job_item_retries_total")).toBe(3);
    expect(m.get("proxy_job_items_charged_total")).toBe(done);
    expect(m.get("proxy_job_charged_tokens_total")).toBe(50 * done);
    // Charged means in the ledger: one usage row per done item.
    const [usage] = await stack.stores.ledger.totals({ customerId: customer.id, fromMs: 0, toMs: Date.now() + 1 });
    expect(usage?.events).toBe(done);
  });
});
