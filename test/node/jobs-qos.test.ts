import { afterEach, describe, expect, it } from "vitest";
import { startSlotNode } from "../../proxy/src/jobs/testing/slot-node.ts";
import { startJobsStack } from "../../proxy/src/jobs/testing/stack.ts";

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close();
});

type Stack = Awaited<ReturnType<typeof startJobsStack>>;

async function postJob(stack: Stack, key: string, n: number) {
  const res = await fetch(`${stack.url}/v1/jobs`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ items: Array.from({ length: n }, (_, i) => ({ text: `batch item ${i}` })) }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

async function counts(stack: Stack, id: string) {
  return (await stack.jobStore.get(id))?.counts;
}

describe("batch QoS: batch work only fills spare capacity", () => {
  it("never makes an interactive request wait for a slot while a backlog drains", async () => {
    const node = await startSlotNode({ slots: 8, reservedInteractive: 2, serviceMs: 40 });
    open.push(node);
    const stack = await startJobsStack([node.url], {
      jobs: { pollMs: 10, capacity: { headroomSlots: 2, maxPerNode: 4, staleAfterMs: 5_000 } },
    });
    open.push(stack);
    const batch = await stack.newCustomer("batch");
    const basic = await stack.newCustomer("basic");
    const statuses: number[] = [];
    let running = true;
    const interactive = async () => {
      while (running) {
        const res = await fetch(`${stack.url}/v1/tts`, {
          method: "POST",
          headers: { authorization: `Bearer ${basic.key}`, "content-type": "application/json" },
          body: JSON.stringify({ text: "An interactive request.", voice: 0 }),
        });
        await res.arrayBuffer();
        statuses.push(res.status);
      }
    };
    // 5 interactive requests in flight + 4 batch (maxPerNode) would be 9 > 8 slots: the feeder must yield to them.
    const loops = Array.from({ length: 5 }, interactive);
    // the interactive load is running (each loop has had an answer) before the backlog arrives
    const warm = Date.now() + 30_000;
    while (statuses.length < 5 && Date.now() < warm) await new Promise((r) => setTimeout(r, 10));
    const id = await postJob(stack, batch.key, 150);
    const until = Date.now() + 60_000;
    while ((await counts(stack, id))?.done !== 150 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    running = false;
    await Promise.all(loops);
    expect((await counts(stack, id))?.done).toBe(150);
    expect(statuses.length).toBeGreaterThan(50);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(node.stats.served.batch).toBe(150);
    expect(node.stats.interactiveQueued, JSON.stringify(node.stats.queuedWhile)).toBe(0);
    expect(node.stats.batchQueued).toBe(0);
    expect(node.stats.peakRunning.batch).toBeLessThanOrEqual(4);
  });

  it("sends no batch work to a node that reports a queue, and resumes when it drains", async () => {
    const node = await startSlotNode({ slots: 8, serviceMs: 5 });
    open.push(node);
    node.control.reportQueueDepth = 3;
    const stack = await startJobsStack([node.url], {
      healthIntervalMs: 100,
      jobs: { pollMs: 10, healthRefreshMs: 100 },
    });
    open.push(stack);
    const batch = await stack.newCustomer("batch");
    const id = await postJob(stack, batch.key, 20);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(node.stats.served.batch).toBe(0);
    expect(await counts(stack, id)).toMatchObject({ queued: 20, running: 0 });
    node.control.reportQueueDepth = null;
    const until = Date.now() + 20_000;
    while ((await counts(stack, id))?.done !== 20 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect((await counts(stack, id))?.done).toBe(20);
  });

  it("sends no batch work to a node whose free slots are all headroom", async () => {
    const node = await startSlotNode({ slots: 2, reservedInteractive: 0, serviceMs: 5 });
    open.push(node);
    const stack = await startJobsStack([node.url], {
      healthIntervalMs: 100,
      jobs: { pollMs: 10, capacity: { headroomSlots: 2, maxPerNode: 4, staleAfterMs: 5_000 } },
    });
    open.push(stack);
    const batch = await stack.newCustomer("batch");
    const id = await postJob(stack, batch.key, 5);
    await new Promise((r) => setTimeout(r, 800));
    expect(node.stats.served.batch).toBe(0);
    expect((await counts(stack, id))?.queued).toBe(5);
  });
});
