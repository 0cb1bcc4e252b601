import { beforeEach, describe, expect, it } from "vitest";
import { createPromMetrics } from "../adapters/node/prom-metrics.ts";
import { ensureDefaultPlans } from "../bootstrap.ts";
import { composeProxy, defaultProxyConfig } from "../compose.ts";
import { InMemoryConcurrencyLimiter, InMemoryRateLimiter } from "../core/rate-limit/gcra.ts";
import type { Scheduler } from "../core/routing/health.ts";
import { createMemoryStores } from "../store/memory/index.ts";
import type { Stores } from "../store/ports.ts";
import { silentWav } from "../testing/stack.ts";
import { gpuNodeAdapter } from "../upstream/adapters.ts";
import type { UpstreamResponse, UpstreamTransport } from "../upstream/transport.ts";
import { InMemoryJobStore, InMemoryResultStore } from "./memory.ts";
import { itemRequestId, itemResultKey } from "./model.ts";

/** Timers that never fire: the test drives `tick()` itself. */
const manual: Scheduler = { every: () => () => {}, after: () => () => {} };

function transport(answer: () => UpstreamResponse) {
  const t: UpstreamTransport & { requests: number; priorities: string[] } = {
    requests: 0,
    priorities: [],
    async request(req) {
      t.requests++;
      t.priorities.push(String(req.headers["x-priority"]));
      return answer();
    },
    async close() {},
  };
  return t;
}
const wavAnswer = (): UpstreamResponse => ({
  status: 200,
  headers: { "content-type": "audio/wav", "x-audio-duration-ms": "1000.0" },
  body: silentWav(1000),
});
const jsonAnswer = (status: number, code: string): UpstreamResponse => ({
  status,
  headers: { "content-type": "application/json", "retry-after": "1" },
  body: new TextEncoder().encode(JSON.stringify({ error: { code, message: code } })),
});

describe("JobWorker (in process, memory stores, a stub transport)", () => {
  let stores: Stores;
  let jobs: InMemoryJobStore;
  let results: InMemoryResultStore;
  let customer: { id: string; keyId: string };

  beforeEach(async () => {
    stores = createMemoryStores();
    await ensureDefaultPlans(stores);
    jobs = new InMemoryJobStore();
    results = new InMemoryResultStore();
    const c = await stores.customers.createCustomer({ name: "B", email: "b@example.com", planId: "batch" });
    if (!c.ok) throw new Error(c.message);
    const key = await stores.keys.issueKey(c.value.id);
    if (!key.ok) throw new Error("key");
    customer = { id: c.value.id, keyId: key.value.id };
  });

  function compose(t: UpstreamTransport, report = { queueDepth: 0, inFlight: 0, freeSlots: 8, ready: true }) {
    const composed = composeProxy({
      stores,
      nodes: [{ id: "node0", url: "http://node0.invalid" }],
      transport: t,
      adapter: gpuNodeAdapter,
      rateLimiter: new InMemoryRateLimiter(),
      concurrency: new InMemoryConcurrencyLimiter(),
      config: defaultProxyConfig("test-admin-token-0123456789"),
      voices: () => [{ id: 0, name: "alice", description: "stub" }],
      metrics: createPromMetrics,
      remoteAddress: () => "127.0.0.1",
      clientIp: () => "127.0.0.1",
      jobs: { store: jobs, results, scheduler: manual, config: { backoffBaseMs: 1, backoffMaxMs: 1 } },
    });
    composed.nodes.reportHealth("node0", report, Date.now());
    const worker = composed.jobWorker;
    if (!worker) throw new Error("no worker");
    return { ...composed, worker };
  }

  const newJob = (n = 1) =>
    jobs.create({
      customerId: customer.id,
      apiKeyId: customer.keyId,
      planId: "batch",
      pool: "shared",
      preferOffPeak: false,
      maxAttempts: 3,
      items: Array.from({ length: n }, (_, i) => ({ text: `item ${i}`, voice: 0, speed: 1 })),
    });

  const usage = async () =>
    (await stores.ledger.totals({ customerId: customer.id, fromMs: 0, toMs: Date.now() + 1e6 }))[0];

  it("synthesises at batch priority, stores the audio, meters once and completes", async () => {
    const t = transport(wavAnswer);
    const { worker, ledger } = compose(t);
    const job = await newJob(3);
    expect(await worker.tick()).toBe(3);
    await worker.idle();
    await ledger.close();
    expect(t.priorities).toEqual(["batch", "batch", "batch"]);
    expect((await jobs.get(job.id))?.counts.done).toBe(3);
    expect(await results.get(itemResultKey(job.id, 2))).not.toBeNull();
    expect(await usage()).toMatchObject({ events: 3, tokens: 150 });
    // Each item's usage row says it came from a batch job.
    const bySource = await stores.ledger.usageByDay({
      customerId: customer.id,
      fromMs: 0,
      toMs: Date.now() + 1e6,
      bySource: true,
    });
    expect(new Set(bySource.map((d) => d.source))).toEqual(new Set(["job"]));
    expect(bySource.reduce((n, d) => n + d.events, 0)).toBe(3);
  });

  it("claims nothing while the node reports a queue, or too few free slots", async () => {
    const t = transport(wavAnswer);
    await newJob(2);
    const queued = compose(t, { queueDepth: 1, inFlight: 8, freeSlots: 0, ready: true });
    expect(await queued.worker.tick()).toBe(0);
    const busy = compose(t, { queueDepth: 0, inFlight: 6, freeSlots: 2, ready: true });
    expect(await busy.worker.tick()).toBe(0);
    expect(t.requests).toBe(0);
    expect(await jobs.stats()).toMatchObject({ queued: 2, running: 0 });
  });

  it("meters an item whose audio an earlier run stored without synthesising it again", async () => {
    const job = await newJob(1);
    // A worker claimed it, stored the audio, committed to finishing, then died.
    const [c] = await jobs.claim({ limit: 1, leaseMs: 60_000, pools: ["shared"] });
    await results.put(itemResultKey(job.id, 0), silentWav(1000));
    await jobs.beginFinish(job.id, 0, c?.leaseToken ?? "");
    await jobs.releaseAllLeases();
    const t = transport(wavAnswer);
    const { worker, ledger } = compose(t);
    expect(await worker.tick()).toBe(1);
    await worker.idle();
    await ledger.close();
    expect(t.requests).toBe(0);
    expect((await jobs.item(job.id, 0))?.state).toBe("done");
    expect(await usage()).toMatchObject({ events: 1, tokens: 50 });
  });

  it("charges an item once when the run that metered it died before marking it done", async () => {
    const job = await newJob(1);
    const first = compose(transport(wavAnswer));
    const [c] = await jobs.claim({ limit: 1, leaseMs: 60_000, pools: ["shared"] });
    await results.put(itemResultKey(job.id, 0), silentWav(1000));
    await jobs.beginFinish(job.id, 0, c?.leaseToken ?? "");
    // Its usage row is durable (metered under the item's request id)…
    const version = await stores.plans.versionAt("batch", Date.now());
    await first.ledger.append([
      {
        requestId: itemRequestId(job.id, 0),
        customerId: customer.id,
        apiKeyId: customer.keyId,
        planId: "batch",
        priceVersionId: version?.id ?? "",
        occurredAt: Date.now(),
        audioMs: 1000,
        tokens: 50,
        inputChars: 6,
        peak: false,
        multiplierBp: 10_000,
        amountMicros: 650,
        currency: "USD",
        nodeId: "node0",
        priority: "batch",
      },
    ]);
    // …and the process died before `complete`. The next run finds it finishing and completes it.
    await jobs.releaseAllLeases();
    const { worker, ledger } = compose(transport(wavAnswer));
    await worker.tick();
    await worker.idle();
    await ledger.close();
    expect((await jobs.item(job.id, 0))?.state).toBe("done");
    expect(await usage()).toMatchObject({ events: 1, amountMicros: 650 });
  });

  it("fails a request the node refuses, without retrying it", async () => {
    const t = transport(() => jsonAnswer(400, "UNKNOWN_SPEAKER"));
    const { worker } = compose(t);
    const job = await newJob(1);
    await worker.tick();
    await worker.idle();
    expect(t.requests).toBe(1);
    expect(await jobs.item(job.id, 0)).toMatchObject({ state: "failed", errorCode: "UNKNOWN_VOICE", attempts: 1 });
    expect(await usage()).toBeUndefined();
  });

  it("puts an item back without spending an attempt when the node answers 503 (backpressure)", async () => {
    const t = transport(() => jsonAnswer(503, "QUEUE_FULL"));
    const { worker } = compose(t);
    const job = await newJob(1);
    await worker.tick();
    await worker.idle();
    expect(t.requests).toBeGreaterThanOrEqual(1);
    expect(await jobs.item(job.id, 0)).toMatchObject({ state: "queued", attempts: 0 });
  });

  it("holds the items of a suspended customer without spending attempts", async () => {
    await stores.customers.suspend(customer.id, "unpaid");
    const t = transport(wavAnswer);
    const { worker } = compose(t);
    const job = await newJob(1);
    await worker.tick();
    await worker.idle();
    expect(t.requests).toBe(0);
    expect(await jobs.item(job.id, 0)).toMatchObject({ state: "queued", attempts: 0 });
  });

  it("runItem (one message per item): runs the named item once, then says it is gone; busy without capacity", async () => {
    const t = transport(wavAnswer);
    const { worker, ledger } = compose(t);
    const job = await newJob(3);
    expect(await worker.runItem(job.id, 1)).toEqual({ kind: "ran", nextAt: null });
    // A redelivered message for the done item does nothing: no synthesis, no second usage row.
    expect(await worker.runItem(job.id, 1)).toEqual({ kind: "gone" });
    expect(await worker.runItem(job.id, 9)).toEqual({ kind: "gone" });
    expect(await worker.runItem("job_missing", 0)).toEqual({ kind: "gone" });
    await ledger.close();
    expect(t.requests).toBe(1);
    expect((await jobs.items(job.id)).map((i) => i.state)).toEqual(["queued", "done", "queued"]);
    expect(await usage()).toMatchObject({ events: 1, tokens: 50 });

    const busy = compose(t, { queueDepth: 1, inFlight: 8, freeSlots: 0, ready: true });
    expect(await busy.worker.runItem(job.id, 0)).toEqual({ kind: "busy" });
    expect(t.requests).toBe(1);
    // Leased by another worker: due again when that lease ends.
    const [c] = await jobs.claim({ limit: 1, leaseMs: 60_000, pools: ["shared"], only: { jobId: job.id, n: 2 } });
    expect(await worker.runItem(job.id, 2)).toEqual({ kind: "later", at: c?.item.availableAt });
    await jobs.cancel(job.id);
    expect(await worker.runItem(job.id, 0)).toEqual({ kind: "gone" });
    expect(t.requests).toBe(1);
  });

  it("runItem is fair across customers: a later small job's items run in the turns of a huge job's messages", async () => {
    const t = transport(wavAnswer);
    const { worker } = compose(t);
    const huge = await newJob(6);
    // Strictly later (the store's clock is the system's): in the same millisecond the order of the two customers'
    // first items would fall to their random job ids.
    const after = Date.now();
    while (Date.now() <= after) await new Promise((r) => setTimeout(r, 1));
    const c = await stores.customers.createCustomer({ name: "S", email: "s@example.com", planId: "batch" });
    if (!c.ok) throw new Error(c.message);
    const key = await stores.keys.issueKey(c.value.id);
    if (!key.ok) throw new Error("key");
    const small = await jobs.create({
      customerId: c.value.id,
      apiKeyId: key.value.id,
      planId: "batch",
      pool: "shared",
      preferOffPeak: false,
      maxAttempts: 3,
      items: [0, 1].map((i) => ({ text: `small ${i}`, voice: 0, speed: 1 })),
    });
    // The Queue delivers the huge job's messages first; the small job's items run in their turns, before their own
    // messages come, and each huge message that gave its turn away is due again at once (its follow-up).
    const runs = [];
    for (const n of [0, 1, 2, 3]) runs.push(await worker.runItem(huge.id, n));
    const now = (at: number | null | undefined) => typeof at === "number";
    expect(runs.map((r) => (r.kind === "ran" ? [r.instead ?? null, now(r.nextAt)] : r.kind))).toEqual([
      [null, false],
      [{ jobId: small.id, n: 0 }, true],
      [null, false],
      [{ jobId: small.id, n: 1 }, true],
    ]);
    expect((await jobs.items(small.id)).map((i) => i.state)).toEqual(["done", "done"]);
    // The huge job's own items ran in its turns, the named ones (an older one claimed first was handed back).
    expect((await jobs.items(huge.id)).map((i) => [i.state, i.attempts])).toEqual([
      ["done", 1],
      ["queued", 0],
      ["done", 1],
      ["queued", 0],
      ["queued", 0],
      ["queued", 0],
    ]);
    expect(await worker.runItem(small.id, 0)).toEqual({ kind: "gone" });
    expect(t.requests).toBe(4);
  });

  it("runItem: an off-peak job's item waits while its plan is at peak (and says so); others run", async () => {
    // Strictly after the default version beforeEach made (same millisecond: not_after_latest), and not in the past.
    const latest = (await stores.plans.listVersions("batch")).at(-1)?.effectiveFrom ?? 0;
    const version = await stores.plans.addPriceVersion("batch", {
      effectiveFrom: Math.max(Date.now() + 1, latest + 1),
      unitPriceMicrosPer1kTokens: 20_000,
      peakWindows: [{ days: [0, 1, 2, 3, 4, 5, 6], start: "00:00", end: "24:00" }],
      peakMultiplierBp: 20_000,
      batchDiscountBp: 3_500,
    });
    expect(version.ok).toBe(true);
    // ...and in force before the worker asks for the price
    if (version.ok) while (Date.now() < version.value.effectiveFrom) await new Promise((r) => setTimeout(r, 1));
    const t = transport(wavAnswer);
    const { worker } = compose(t);
    const spec = { customerId: customer.id, apiKeyId: customer.keyId, planId: "batch", pool: "shared", maxAttempts: 3 };
    const items = [{ text: "later", voice: 0, speed: 1 }];
    const offPeak = await jobs.create({ ...spec, preferOffPeak: true, items });
    const anytime = await jobs.create({ ...spec, preferOffPeak: false, items });
    expect(await worker.runItem(offPeak.id, 0)).toEqual({ kind: "busy", offPeak: true });
    expect(await worker.runItem(anytime.id, 0)).toEqual({ kind: "ran", nextAt: null });
    expect(t.requests).toBe(1);
    expect(await jobs.item(offPeak.id, 0)).toMatchObject({ state: "queued", attempts: 0 });
  });

  it("runItem: a node's backpressure puts the item back and says when it is due again", async () => {
    const t = transport(() => jsonAnswer(503, "QUEUE_FULL"));
    const { worker } = compose(t);
    const job = await newJob(1);
    const run = await worker.runItem(job.id, 0);
    const item = await jobs.item(job.id, 0);
    expect(item).toMatchObject({ state: "queued", attempts: 0, leaseToken: null });
    expect(run).toEqual({ kind: "ran", nextAt: item?.availableAt });
  });

  it("deletes audio and rows of jobs past their retention", async () => {
    jobs = new InMemoryJobStore({ retentionMs: 0 });
    const { worker } = compose(transport(wavAnswer));
    const job = await newJob(1);
    await worker.tick();
    await worker.idle();
    expect(await results.get(itemResultKey(job.id, 0))).not.toBeNull();
    expect(await worker.purgeExpired()).toBe(1);
    expect(await jobs.get(job.id)).toBeNull();
    expect(await results.get(itemResultKey(job.id, 0))).toBeNull();
    expect(await worker.purgeExpired()).toBe(0);
  });
});
