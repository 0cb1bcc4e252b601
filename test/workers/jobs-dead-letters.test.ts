import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createD1Stores, openD1 } from "../../proxy/src/adapters/workers/d1/index.ts";
import {
  D1DeadLetterStore,
  replayUsageDeadLetters,
  STUCK_REPLAYS,
} from "../../proxy/src/adapters/workers/dead-letters.ts";
import { createEdgeProxy } from "../../proxy/src/adapters/workers/edge-proxy.ts";
import { QUEUE_NAMES } from "../../proxy/src/adapters/workers/env.ts";
import worker from "../../proxy/src/entry.workers.ts";
import { ManualClock } from "../../proxy/src/store/testing/harness.ts";
import { isolate, newCustomer } from "./helpers.ts";
import { deadLetters, getJob, holdingQueue, ITEMS, itemStates, submit, usageRows } from "./jobs-helpers.ts";

let message = 0;

describe("edge dead letters are bounded: a job item is given up, a usage event stays open and visible", () => {
  it("a job item whose messages keep dead-lettering is requeued JOBS_DLQ_MAX_REQUEUES times, then failed for good and never charged", async () => {
    const c = await newCustomer("batch");
    const held = holdingQueue();
    const edge = createEdgeProxy({ ...env, JOBS_QUEUE: held.queue });
    const id = await submit(c.key, isolate(edge), ITEMS.slice(0, 1));
    // One failed run first: its error is the cause the dead letter keeps.
    const store = edge.deps.jobs?.store;
    const [run] =
      (await store?.claim({ limit: 1, leaseMs: 60_000, pools: ["shared"], only: { jobId: id, n: 0 } })) ?? [];
    const cause = { code: "UPSTREAM_FAILED", message: "node answered 500" };
    expect(await store?.retry(id, 0, run?.leaseToken ?? "", cause, Date.now())).toBe("retrying");
    held.sent.length = 0;
    const deadLetter = async () => {
      const batch = createMessageBatch(QUEUE_NAMES.jobDeadLetters, [
        { id: `dl-${++message}`, timestamp: new Date(), attempts: 1, body: { jobId: id, n: 0 } },
      ]);
      const ctx = createExecutionContext();
      await worker.queue(batch, { ...env, JOBS_QUEUE: held.queue }, ctx);
      expect((await getQueueResult(batch, ctx)).explicitAcks).toHaveLength(1);
    };
    for (let i = 0; i < 3; i++) await deadLetter();
    expect(held.sent).toHaveLength(3);
    expect((await itemStates(id)).map((i) => i.state)).toEqual(["queued"]);
    // The 4th dead letter gives the item up: no requeue, failed with the last cause, the job finished, nothing charged.
    await deadLetter();
    expect(held.sent).toHaveLength(3);
    const item = await store?.item(id, 0);
    expect(item).toMatchObject({ state: "failed", errorCode: "ATTEMPTS_EXHAUSTED", leaseToken: null });
    expect(item?.errorMessage).toContain("dead-lettered 4 times");
    expect(item?.errorMessage).toContain("UPSTREAM_FAILED: node answered 500");
    const job = await getJob(c.key, id);
    expect(job).toMatchObject({ status: "failed", counts: { failed: 1, queued: 0, running: 0, done: 0 } });
    expect(job.charged.amount_micros).toBe(0);
    expect(await usageRows(id)).toEqual([]);
    const rows = (await deadLetters(QUEUE_NAMES.jobDeadLetters)).filter((r) => r.request_id === `${id}.0`);
    expect(rows.map((r) => r.resolution)).toEqual(["requeued", "requeued", "requeued", "given_up"]);
    expect(rows.every((r) => r.resolved_at !== null)).toBe(true);
    // A late dead letter of the failed item changes nothing.
    await deadLetter();
    expect(held.sent).toHaveLength(3);
    expect((await deadLetters(QUEUE_NAMES.jobDeadLetters)).at(-1)?.resolution).toBe("discarded");
  });

  it("JOBS_DLQ_MAX_REQUEUES sets the bound; a finishing item (committed to being charged) is never given up", async () => {
    const c = await newCustomer("batch");
    const held = holdingQueue();
    const edge = createEdgeProxy({ ...env, JOBS_QUEUE: held.queue });
    const id = await submit(c.key, isolate(edge), ITEMS.slice(0, 2));
    const store = edge.deps.jobs?.store;
    const [finishing] =
      (await store?.claim({ limit: 1, leaseMs: 60_000, pools: ["shared"], only: { jobId: id, n: 1 } })) ?? [];
    expect(await store?.beginFinish(id, 1, finishing?.leaseToken ?? "")).toBe("ok");
    held.sent.length = 0;
    const bodies = [0, 1, 0, 1].map((n) => ({ jobId: id, n }));
    for (const body of bodies) {
      const batch = createMessageBatch(QUEUE_NAMES.jobDeadLetters, [
        { id: `dl-${++message}`, timestamp: new Date(), attempts: 1, body },
      ]);
      await worker.queue(
        batch,
        { ...env, JOBS_QUEUE: held.queue, JOBS_DLQ_MAX_REQUEUES: "1" },
        createExecutionContext(),
      );
    }
    // Item 0: requeued once, then given up; item 1 (finishing) requeued each time.
    expect(held.sent.map((m) => m.body.n)).toEqual([0, 1, 1]);
    expect((await itemStates(id)).map((i) => i.state)).toEqual(["failed", "finishing"]);
    expect((await getJob(c.key, id)).status).toBe("running");
    // Nothing left for later tests' claims.
    await store?.delete(id);
  });

  it("a usage dead letter that D1 keeps refusing is never dropped: counted, backed off, logged, reported stuck", async () => {
    const db = openD1(env.DB);
    const clock = new ManualClock(Date.now());
    const store = new D1DeadLetterStore(db, clock);
    const requestId = `req_stuck_${crypto.randomUUID().replaceAll("-", "")}`;
    // A well-formed event of a customer that does not exist: the ledger's foreign key refuses it every time.
    const event = {
      requestId,
      customerId: "cus_never",
      apiKeyId: "key_never",
      planId: "batch",
      priceVersionId: "pv_never",
      occurredAt: clock.now(),
      audioMs: 1000,
      tokens: 50,
      inputChars: 4,
      peak: false,
      multiplierBp: 10_000,
      amountMicros: 650,
      currency: "USD",
      nodeId: null,
      priority: "batch",
    };
    await store.record([
      {
        queue: "stuck-test",
        messageId: requestId,
        kind: "usage",
        requestId,
        customerId: event.customerId,
        amountMicros: event.amountMicros,
        currency: "USD",
        body: JSON.stringify(event),
        problem: null,
        attempts: 1,
      },
    ]);
    const logs: Record<string, unknown>[] = [];
    const replay = () =>
      replayUsageDeadLetters({
        store,
        ledger: createD1Stores(db).ledger,
        now: () => clock.now(),
        log: (l) => logs.push(l),
      });
    const mine = async () =>
      (await db.$client.prepare("select * from queue_dead_letters where request_id = ?1").bind(requestId).first()) as {
        replay_attempts: number;
        next_replay_at: number | null;
        last_error: string | null;
        resolved_at: number | null;
      };
    await replay();
    expect(await mine()).toMatchObject({ replay_attempts: 1, resolved_at: null, next_replay_at: clock.now() + 60_000 });
    expect((await mine()).last_error).toContain("FOREIGN KEY");
    const logged = logs.filter((l) => l.request_id === requestId);
    expect(logged).toMatchObject([{ level: "error", amount_micros: 650, currency: "USD", replay_attempts: 1 }]);
    // Not again before its time (the cron runs every minute; this one waits 1, 2, 4 … minutes).
    await replay();
    expect((await mine()).replay_attempts).toBe(1);
    let stuck = 0;
    for (let attempt = 2; attempt <= STUCK_REPLAYS; attempt++) {
      clock.advance(6 * 3_600_000);
      const result = await replay();
      stuck = result.stuck;
      expect((await mine()).replay_attempts).toBe(attempt);
    }
    expect((await mine()).next_replay_at).toBe(clock.now() + 16 * 60_000);
    expect(stuck).toBeGreaterThanOrEqual(1);
    // Still open, still there: the money is not dropped; it is billed once D1 takes it (an operator fixes the cause).
    expect((await mine()).resolved_at).toBeNull();
    expect(await usageRows(requestId)).toEqual([]);
  });
});
