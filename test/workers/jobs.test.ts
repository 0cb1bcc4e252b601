import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createEdgeProxy } from "../../proxy/src/adapters/workers/edge-proxy.ts";
import { QUEUE_NAMES } from "../../proxy/src/adapters/workers/env.ts";
import type { JobMessage } from "../../proxy/src/adapters/workers/jobs-queue.ts";
import worker from "../../proxy/src/entry.workers.ts";
import { verifyCallback } from "../../proxy/src/jobs/callbacks.ts";
import { admin, eventually, isolate, newCustomer, request, self } from "./helpers.ts";
import {
  auth,
  deadLetters,
  deliver,
  getJob,
  holdingQueue,
  ITEMS,
  itemStates,
  submit,
  usageRows,
} from "./jobs-helpers.ts";

describe("batch jobs on the Worker: D1 queue state, one Queue message per item, audio in R2", () => {
  beforeAll(async () => {
    expect((await self(request("/healthz"))).status).toBe(200);
  });

  it("a job submitted through the Worker completes on the real gpu-node, each item charged once at the batch price, audio from R2", async () => {
    const c = await newCustomer("batch");
    const id = await submit(c.key);
    // The Worker's own jobs consumer (miniflare delivers the Queue) runs the items.
    await eventually(async () => (await getJob(c.key, id)).status === "succeeded", 60_000, "the job to succeed");
    const job = await getJob(c.key, id);
    expect(job.counts).toMatchObject({ done: 3, queued: 0, running: 0, failed: 0 });

    const rows = await usageRows(id);
    expect(rows.map((r) => r.request_id)).toEqual([`${id}.0`, `${id}.1`, `${id}.2`]);
    for (const r of rows) expect([r.priority, r.multiplier_bp, r.tokens > 0]).toEqual(["batch", 10_000, true]);
    expect(job.charged.amount_micros).toBe(rows.reduce((sum, r) => sum + r.amount_micros, 0));
    expect(job.charged.amount_micros).toBeGreaterThan(0);

    // At-least-once: every item's message delivered again (twice in one batch, too) changes nothing.
    const before = await itemStates(id);
    const again = await deliver(
      QUEUE_NAMES.jobs,
      [0, 1, 2, 0].map((n) => ({ jobId: id, n })),
    );
    expect(again.retryMessages).toEqual([]);
    expect(again.explicitAcks).toHaveLength(4);
    expect(await usageRows(id)).toEqual(rows);
    expect(await itemStates(id)).toEqual(before);

    // The audio is in R2 and downloads through the API, item by item and as one WAV.
    const stored = await env.JOB_RESULTS.get(`${id}/1.wav`);
    expect(stored).not.toBeNull();
    const storedBytes = new Uint8Array((await stored?.arrayBuffer()) ?? new ArrayBuffer(0));
    const item = await self(request(`/v1/jobs/${id}/items/1/audio`, { headers: auth(c.key) }));
    expect(item.status).toBe(200);
    expect(item.headers.get("content-type")).toBe("audio/wav");
    expect(new Uint8Array(await item.arrayBuffer())).toEqual(storedBytes);
    const whole = await self(request(`/v1/jobs/${id}/audio`, { headers: auth(c.key) }));
    expect(whole.status).toBe(200);
    const wav = new Uint8Array(await whole.arrayBuffer());
    expect(new TextDecoder().decode(wav.slice(0, 4))).toBe("RIFF");
    expect(wav.length).toBeGreaterThan(storedBytes.length);

    // Deleting the finished job deletes its audio in R2.
    const deleted = await self(request(`/v1/jobs/${id}`, { method: "DELETE", headers: auth(c.key) }));
    expect(((await deleted.json()) as { deleted: boolean }).deleted).toBe(true);
    expect((await env.JOB_RESULTS.list({ prefix: `${id}/` })).objects).toEqual([]);
    expect(await usageRows(id)).toEqual(rows);
  });

  it("POST /v1/jobs answers only once every item has its message; a message delivered twice at once runs its item once", async () => {
    const c = await newCustomer("batch");
    const held = holdingQueue();
    const edge = isolate(createEdgeProxy({ ...env, JOBS_QUEUE: held.queue }));
    const id = await submit(c.key, edge);
    expect(held.sent.map((m) => m.body)).toEqual([0, 1, 2].map((n) => ({ jobId: id, n })));

    const result = await deliver(QUEUE_NAMES.jobs, [...held.sent.map((m) => m.body), { jobId: id, n: 1 }]);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(4);
    // What the node had no batch slot for now waits for its follow-up (the Worker's real Queue).
    await eventually(async () => (await itemStates(id)).every((i) => i.state === "done"), 60_000, "every item done");
    expect((await itemStates(id)).map((i) => [i.state, i.attempts])).toEqual([
      ["done", 1],
      ["done", 1],
      ["done", 1],
    ]);
    const rows = await usageRows(id);
    expect(rows.map((r) => r.request_id)).toEqual([`${id}.0`, `${id}.1`, `${id}.2`]);
  });

  it("a finished job's signed callback goes out (deliverCallbacks, which the cron runs); its audio and rows go at the end of retention (purgeExpired)", async () => {
    const c = await newCustomer("batch");
    const held = holdingQueue();
    const edge = createEdgeProxy({
      ...env,
      JOBS_QUEUE: held.queue,
      JOBS_ALLOW_HTTP_CALLBACKS: "true",
      // Retention of a finished job: 36 ms, so the purge below finds it expired.
      JOBS_RETENTION_HOURS: "0.00001",
    });
    const callbackUrl = `${env.CALLBACK_RECEIVER_URL}/hooks/${c.id}`;
    const res = await isolate(edge)(
      request("/v1/jobs", {
        method: "POST",
        headers: auth(c.key),
        body: JSON.stringify({ items: ITEMS.slice(0, 2), callback_url: callbackUrl }),
      }),
    );
    const created = (await res.json()) as { id: string; callback_secret: string };
    expect(res.status).toBe(202);
    const batch = createMessageBatch(
      QUEUE_NAMES.jobs,
      held.sent.map((m, i) => ({ id: `c-${i}`, timestamp: new Date(), attempts: 1, body: m.body })),
    );
    await edge.consumeJobs(batch, createExecutionContext());
    // What had no batch slot at once runs on its follow-ups.
    for (let round = 0; round < 30 && (await getJob(c.key, created.id)).status !== "succeeded"; round++) {
      const next = held.sent
        .splice(0)
        .map((m, i) => ({ id: `c-${round}-${i}`, timestamp: new Date(), attempts: 1, body: m.body }));
      await new Promise((r) => setTimeout(r, 500));
      await edge.consumeJobs(createMessageBatch(QUEUE_NAMES.jobs, next), createExecutionContext());
    }
    expect((await getJob(c.key, created.id)).status).toBe("succeeded");

    expect(await edge.jobWorker.deliverCallbacks()).toBe(1);
    const received = (await (await fetch(env.CALLBACK_RECEIVER_URL)).json()) as { signature: string; body: string }[];
    const mine = received.filter((r) => r.body.includes(created.id));
    expect(mine).toHaveLength(1);
    const hook = mine[0] ?? { signature: "", body: "" };
    expect(
      await verifyCallback(created.callback_secret, hook.signature, hook.body, Math.floor(Date.now() / 1000)),
    ).toBe(true);
    expect(JSON.parse(hook.body)).toMatchObject({ type: "job.finished", job: { id: created.id, status: "succeeded" } });
    expect(await edge.jobWorker.deliverCallbacks()).toBe(0);

    expect((await env.JOB_RESULTS.list({ prefix: `${created.id}/` })).objects).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 50));
    expect(await edge.jobWorker.purgeExpired()).toBeGreaterThanOrEqual(1);
    expect((await env.JOB_RESULTS.list({ prefix: `${created.id}/` })).objects).toEqual([]);
    expect(await itemStates(created.id)).toEqual([]);
    // What was billed stays.
    expect(await usageRows(created.id)).toHaveLength(2);
  });

  it("a job the Queue does not take is not accepted: 503 with Retry-After, and nothing of it stays in D1", async () => {
    const c = await newCustomer("batch");
    const refusing = {
      send: () => Promise.reject(new Error("queue unavailable")),
      sendBatch: () => Promise.reject(new Error("queue unavailable")),
    } as unknown as Queue<JobMessage>;
    const edge = isolate(createEdgeProxy({ ...env, JOBS_QUEUE: refusing }));
    const res = await edge(
      request("/v1/jobs", { method: "POST", headers: auth(c.key), body: JSON.stringify({ items: ITEMS }) }),
    );
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("JOBS_QUEUE_UNAVAILABLE");
    const { results } = await env.DB.prepare(
      "select (select count(*) from jobs where customer_id = ?1) as jobs, (select count(*) from job_items i join jobs j on j.id = i.job_id where j.customer_id = ?1) as items",
    )
      .bind(c.id)
      .all<{ jobs: number; items: number }>();
    expect(results[0]).toEqual({ jobs: 0, items: 0 });
  });

  it("cancel: items whose messages were not delivered yet never run and are never charged", async () => {
    const c = await newCustomer("batch");
    const held = holdingQueue();
    const edge = isolate(createEdgeProxy({ ...env, JOBS_QUEUE: held.queue }));
    const id = await submit(c.key, edge);
    const cancelled = await edge(request(`/v1/jobs/${id}`, { method: "DELETE", headers: auth(c.key) }));
    expect(cancelled.status).toBe(200);
    expect(((await cancelled.json()) as { status: string }).status).toBe("cancelled");

    const result = await deliver(
      QUEUE_NAMES.jobs,
      held.sent.map((m) => m.body),
    );
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(3);
    expect((await itemStates(id)).map((i) => [i.state, i.attempts])).toEqual([
      ["cancelled", 0],
      ["cancelled", 0],
      ["cancelled", 0],
    ]);
    expect(await usageRows(id)).toEqual([]);
    expect((await env.JOB_RESULTS.list({ prefix: `${id}/` })).objects).toEqual([]);
    expect((await getJob(c.key, id)).charged.amount_micros).toBe(0);
  });

  it("without spare batch capacity an item waits (a delayed follow-up, growing to the cap) and spends no attempt", async () => {
    const c = await newCustomer("batch");
    const held = holdingQueue();
    // No batch slot on any node: the capacity rule leaves the node to interactive traffic.
    const full = createEdgeProxy({ ...env, JOBS_QUEUE: held.queue, JOBS_BATCH_SLOTS_PER_NODE: "0" });
    const id = await submit(c.key, isolate(full));
    held.sent.length = 0;
    const batch = createMessageBatch(QUEUE_NAMES.jobs, [
      { id: "w0", timestamp: new Date(), attempts: 1, body: { jobId: id, n: 0 } },
      { id: "w1", timestamp: new Date(), attempts: 1, body: { jobId: id, n: 1, waits: 7 } },
    ]);
    const ctx = createExecutionContext();
    const summary = await full.consumeJobs(batch, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(summary).toMatchObject({ busy: 2, ran: 0 });
    expect(result.explicitAcks.sort()).toEqual(["w0", "w1"]);
    expect(held.sent.sort((a, b) => a.body.n - b.body.n)).toEqual([
      { body: { jobId: id, n: 0, waits: 1 }, delaySeconds: 1 },
      { body: { jobId: id, n: 1, waits: 8 }, delaySeconds: 30 },
    ]);
    expect((await itemStates(id)).map((i) => [i.state, i.attempts])).toEqual([
      ["queued", 0],
      ["queued", 0],
      ["queued", 0],
    ]);
    expect(await usageRows(id)).toEqual([]);
    // Nothing left waiting for later tests (a fair claim would give it their turns).
    await full.deps.jobs?.store.cancel(id);
  });

  it("an off-peak job's item waits JOBS_OFF_PEAK_WAIT_SECONDS while its plan is at peak; another job runs", async () => {
    const plan = await admin("PUT", "/admin/plans/batch-peak", {
      kind: "batch",
      name: "batch, peak all week",
      currency: "USD",
      time_zone: "UTC",
      requests_per_second: 100,
      burst: 100,
      max_in_flight: 16,
    });
    expect(plan.status).toBe(200);
    const price = await admin("POST", "/admin/plans/batch-peak/prices", {
      unit_price_micros_per_1k_tokens: 20_000,
      peak_windows: [{ days: [0, 1, 2, 3, 4, 5, 6], start: "00:00", end: "24:00" }],
      peak_multiplier_bp: 20_000,
      batch_discount_bp: 3_500,
    });
    expect(price.status).toBe(201);
    const c = await newCustomer("batch-peak");
    const held = holdingQueue();
    const edge = createEdgeProxy({ ...env, JOBS_QUEUE: held.queue, JOBS_OFF_PEAK_WAIT_SECONDS: "600" });
    const post = (body: unknown) =>
      isolate(edge)(request("/v1/jobs", { method: "POST", headers: auth(c.key), body: JSON.stringify(body) }));
    const later = (await (await post({ items: ITEMS.slice(0, 1), prefer_off_peak: true })).json()) as { id: string };
    const now = (await (await post({ items: ITEMS.slice(0, 1) })).json()) as { id: string };
    held.sent.length = 0;
    const batch = createMessageBatch(QUEUE_NAMES.jobs, [
      { id: "p0", timestamp: new Date(), attempts: 1, body: { jobId: later.id, n: 0 } },
      { id: "p1", timestamp: new Date(), attempts: 1, body: { jobId: now.id, n: 0 } },
    ]);
    const summary = await edge.consumeJobs(batch, createExecutionContext());
    expect(summary.busy + summary.ran).toBe(2);
    expect(held.sent.filter((m) => m.body.jobId === later.id)).toEqual([
      { body: { jobId: later.id, n: 0 }, delaySeconds: 600 },
    ]);
    expect((await itemStates(later.id)).map((i) => [i.state, i.attempts])).toEqual([["queued", 0]]);
    // The other job's item ran (or, if the node had no slot just then, waits for capacity, not for the peak).
    const other = held.sent.filter((m) => m.body.jobId === now.id);
    if (summary.ran === 1) expect((await itemStates(now.id))[0]?.state).toBe("done");
    else expect(other[0]?.delaySeconds).toBe(1);
    await edge.deps.jobs?.store.cancel(later.id);
    await edge.deps.jobs?.store.cancel(now.id);
  });

  it("an item leased to another worker gets a follow-up at the end of that lease, and a malformed message is dead-lettered", async () => {
    const c = await newCustomer("batch");
    const held = holdingQueue();
    const edge = createEdgeProxy({ ...env, JOBS_QUEUE: held.queue });
    const id = await submit(c.key, isolate(edge));
    held.sent.length = 0;
    const store = edge.deps.jobs?.store;
    const [claimed] =
      (await store?.claim({ limit: 1, leaseMs: 120_000, pools: ["shared"], only: { jobId: id, n: 2 } })) ?? [];
    expect(claimed).toBeDefined();
    const batch = createMessageBatch(QUEUE_NAMES.jobs, [
      { id: "l0", timestamp: new Date(), attempts: 1, body: { jobId: id, n: 2 } },
      { id: "bad", timestamp: new Date(), attempts: 1, body: { jobId: "nope", n: -1 } },
    ]);
    const ctx = createExecutionContext();
    const dlq = holdingQueue();
    const summary = await createEdgeProxy({ ...env, JOBS_QUEUE: held.queue, JOBS_DLQ: dlq.queue }).consumeJobs(
      batch,
      ctx,
    );
    expect(summary).toMatchObject({ later: 1, deadLettered: 1 });
    expect((await getQueueResult(batch, ctx)).explicitAcks.sort()).toEqual(["bad", "l0"]);
    expect(held.sent).toHaveLength(1);
    expect(held.sent[0]?.body).toEqual({ jobId: id, n: 2 });
    expect(held.sent[0]?.delaySeconds).toBeGreaterThan(100);
    expect(held.sent[0]?.delaySeconds).toBeLessThanOrEqual(120);
    expect(dlq.sent).toHaveLength(1);
    await store?.cancel(id);
  });

  it("job dead letters are recorded; an unfinished item is queued again, a finished one is not", async () => {
    const c = await newCustomer("batch");
    const held = holdingQueue();
    const edge = createEdgeProxy({ ...env, JOBS_QUEUE: held.queue });
    const id = await submit(c.key, isolate(edge));
    await isolate(edge)(request(`/v1/jobs/${id}`, { method: "DELETE", headers: auth(c.key) }));
    const other = await submit(c.key, isolate(edge), ITEMS.slice(0, 1));
    held.sent.length = 0;
    const bodies = [{ jobId: id, n: 0 }, { jobId: other, n: 0 }, "garbage"];
    const batch = createMessageBatch(
      QUEUE_NAMES.jobDeadLetters,
      bodies.map((body, i) => ({ id: `j-${i}`, timestamp: new Date(), attempts: 1, body })),
    );
    const ctx = createExecutionContext();
    await worker.queue(batch, { ...env, JOBS_QUEUE: held.queue }, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(3);
    expect(held.sent).toEqual([{ body: { jobId: other, n: 0 }, delaySeconds: 60 }]);
    const rows = (await deadLetters(QUEUE_NAMES.jobDeadLetters)).slice(-3);
    expect(rows.map((r) => [r.kind, r.request_id, r.resolution, r.problem])).toEqual([
      ["job", `${id}.0`, "discarded", null],
      ["job", `${other}.0`, "requeued", null],
      ["job", null, null, "not a job item message"],
    ]);
    await edge.deps.jobs?.store.cancel(other);
  });

  it("dead-lettered usage lands in D1, once per message; the cron replays it into the ledger once D1 takes it", async () => {
    const c = await newCustomer("batch");
    // A real usage row to copy: one item of a job, run through the consumer.
    const held = holdingQueue();
    const id = await submit(c.key, isolate(createEdgeProxy({ ...env, JOBS_QUEUE: held.queue })), ITEMS.slice(0, 1));
    await deliver(QUEUE_NAMES.jobs, [{ jobId: id, n: 0 }]);
    await eventually(async () => (await usageRows(id)).length === 1, 60_000, "the item's usage row");
    const { results } = await env.DB.prepare("select * from usage_events where request_id = ?1")
      .bind(`${id}.0`)
      .all<Record<string, unknown>>();
    const row = results[0];
    if (!row) throw new Error("no usage row");
    const event = {
      requestId: `${id}.lost`,
      customerId: row.customer_id,
      apiKeyId: row.api_key_id,
      planId: row.plan_id,
      priceVersionId: row.price_version_id,
      occurredAt: row.occurred_at,
      audioMs: row.audio_ms,
      tokens: row.tokens,
      inputChars: row.input_chars,
      peak: false,
      multiplierBp: row.multiplier_bp,
      amountMicros: row.amount_micros,
      currency: row.currency,
      nodeId: row.node_id,
      priority: "batch",
    };
    const orphan = { ...event, requestId: `${id}.orphan`, customerId: "cus_gone" };
    const malformed = {
      body: { requestId: "req_bad", amountMicros: 1.5 },
      problem: "not a valid usage event",
      queue: "x",
    };

    const batch = createMessageBatch(QUEUE_NAMES.usageDeadLetters, [
      { id: "d-event", timestamp: new Date(), attempts: 1, body: event },
      { id: "d-orphan", timestamp: new Date(), attempts: 1, body: orphan },
      { id: "d-bad", timestamp: new Date(), attempts: 1, body: malformed },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks.sort()).toEqual(["d-bad", "d-event", "d-orphan"]);
    // Delivered again (at least once): still one record per message.
    const again = createMessageBatch(QUEUE_NAMES.usageDeadLetters, [
      { id: "d-event", timestamp: new Date(), attempts: 2, body: event },
    ]);
    await worker.queue(again, env, createExecutionContext());
    const recorded = await deadLetters(QUEUE_NAMES.usageDeadLetters);
    expect(recorded.map((r) => [r.message_id, r.request_id, r.customer_id, r.amount_micros, r.problem])).toEqual([
      ["d-event", event.requestId, c.id, event.amountMicros, null],
      ["d-orphan", orphan.requestId, "cus_gone", event.amountMicros, null],
      ["d-bad", "req_bad", null, null, "not a valid usage event"],
    ]);
    expect(recorded.every((r) => r.resolution === null)).toBe(true);

    // The cron replays what D1 takes now (billed once), and leaves the rest open for an operator.
    const cron = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *" }), env, cron);
    await waitOnExecutionContext(cron);
    const after = await deadLetters(QUEUE_NAMES.usageDeadLetters);
    expect(after.map((r) => [r.message_id, r.resolution])).toEqual([
      ["d-event", "replayed"],
      ["d-orphan", null],
      ["d-bad", null],
    ]);
    const replayed = await usageRows(id);
    expect(replayed.map((r) => r.request_id).sort()).toEqual([`${id}.0`, `${id}.lost`].sort());
  });

  it("fair across customers: a small job submitted after a big one runs in the turns of the big job's messages", async () => {
    // An otherwise idle queue: what earlier tests (or files) left unfinished is deleted, so only these two wait.
    const held = holdingQueue();
    const edge = createEdgeProxy({ ...env, JOBS_QUEUE: held.queue });
    const store = edge.deps.jobs?.store;
    const { results: left } = await env.DB.prepare("select id from jobs where finished_at is null").all<{
      id: string;
    }>();
    for (const { id } of left) await store?.delete(id);
    const big = await newCustomer("batch");
    const small = await newCustomer("batch");
    const bigId = await submit(big.key, isolate(edge), [...ITEMS, ...ITEMS]);
    // Strictly later: in the same millisecond the two customers' first items would be ordered by their random ids.
    const after = Date.now();
    while (Date.now() <= after) await new Promise((r) => setTimeout(r, 1));
    const smallId = await submit(small.key, isolate(edge), ITEMS.slice(0, 2));
    held.sent.length = 0;
    // The Queue delivers the big job's messages first, one at a time here.
    const summaries = [];
    for (const n of [0, 1, 2, 3]) {
      const batch = createMessageBatch(QUEUE_NAMES.jobs, [
        { id: `f${n}`, timestamp: new Date(), attempts: 1, body: { jobId: bigId, n } },
      ]);
      summaries.push(await edge.consumeJobs(batch, createExecutionContext()));
    }
    expect(summaries.every((s) => s.ran === 1)).toBe(true);
    // The small job is done before any of its own messages came; each big message that gave its turn away has a
    // follow-up due at once.
    expect((await itemStates(smallId)).map((i) => [i.state, i.attempts])).toEqual([
      ["done", 1],
      ["done", 1],
    ]);
    expect((await itemStates(bigId)).map((i) => i.state)).toEqual([
      "done",
      "queued",
      "done",
      "queued",
      "queued",
      "queued",
    ]);
    expect(held.sent).toEqual([
      { body: { jobId: bigId, n: 1 }, delaySeconds: 0 },
      { body: { jobId: bigId, n: 3 }, delaySeconds: 0 },
    ]);
    expect((await usageRows(smallId)).map((r) => r.request_id)).toEqual([`${smallId}.0`, `${smallId}.1`]);
    // The small job's own messages, when they come, find nothing to do.
    const late = createMessageBatch(QUEUE_NAMES.jobs, [
      { id: "s0", timestamp: new Date(), attempts: 1, body: { jobId: smallId, n: 0 } },
    ]);
    expect(await edge.consumeJobs(late, createExecutionContext())).toMatchObject({ gone: 1 });
    await store?.cancel(bigId);
  });

  it("a malformed usage message reaches the dead-letter table through the real dead-letter queue", async () => {
    const requestId = `req_dlq_${crypto.randomUUID().replaceAll("-", "")}`;
    const result = await deliver(QUEUE_NAMES.usage, [{ requestId, amountMicros: 2.5 }]);
    expect(result.explicitAcks).toHaveLength(1);
    await eventually(
      async () => (await deadLetters(QUEUE_NAMES.usageDeadLetters)).some((r) => r.request_id === requestId),
      20_000,
      "the dead letter in D1",
    );
    const row = (await deadLetters(QUEUE_NAMES.usageDeadLetters)).find((r) => r.request_id === requestId);
    expect(row).toMatchObject({ kind: "usage", problem: "not a valid usage event", resolution: null });
  });
});
