import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { openD1 } from "../../proxy/src/adapters/workers/d1/index.ts";
import {
  type JobMessage,
  QueuedD1JobStore,
  UNQUEUED_GIVE_UP_MS,
  UNQUEUED_GRACE_MS,
} from "../../proxy/src/adapters/workers/jobs-queue.ts";
import worker from "../../proxy/src/entry.workers.ts";
import type { NewJob } from "../../proxy/src/jobs/model.ts";
import { ManualClock } from "../../proxy/src/store/testing/harness.ts";
import { eventually, newCustomer } from "./helpers.ts";
import { getJob, holdingQueue, ITEMS, itemStates, usageRows } from "./jobs-helpers.ts";

const refusing = {
  send: () => Promise.reject(new Error("queue unavailable")),
  sendBatch: () => Promise.reject(new Error("queue unavailable")),
} as unknown as Queue<JobMessage>;

/** A store whose delete fails too (D1 refusing it just then). */
class UndeletableStore extends QueuedD1JobStore {
  override delete(): Promise<boolean> {
    return Promise.reject(new Error("D1 unavailable"));
  }
}

async function enqueueState(id: string) {
  return (
    await env.DB.prepare("select enqueue_state from jobs where id = ?1").bind(id).first<{ enqueue_state: string }>()
  )?.enqueue_state;
}

function newJob(customer: { id: string; keyId: string }, items = ITEMS): NewJob {
  return {
    customerId: customer.id,
    apiKeyId: customer.keyId,
    planId: "batch",
    pool: "shared",
    preferOffPeak: false,
    maxAttempts: 3,
    items: items.map((i) => ({ ...i, speed: 1 })),
  };
}

async function cron() {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

describe("edge jobs whose items never reached the Queue are swept by the cron, never stuck", () => {
  it("a job the Queue refused and D1 would not delete is marked refused; the cron fails it (JOBS_QUEUE_UNAVAILABLE), nothing charged", async () => {
    const c = await newCustomer("batch");
    // Created past the grace period, as the cron will see it.
    const clock = new ManualClock(Date.now() - UNQUEUED_GRACE_MS - 1_000);
    const store = new UndeletableStore(openD1(env.DB), refusing, { clock });
    const input = newJob(c);
    await expect(
      store.create({ ...input, id: `job_refused${crypto.randomUUID().replaceAll("-", "")}` }),
    ).rejects.toMatchObject({
      code: "JOBS_QUEUE_UNAVAILABLE",
    });
    const { results } = await env.DB.prepare("select id from jobs where customer_id = ?1")
      .bind(c.id)
      .all<{ id: string }>();
    const id = results[0]?.id ?? "";
    expect(await enqueueState(id)).toBe("refused");
    expect((await itemStates(id)).map((i) => i.state)).toEqual(["queued", "queued", "queued"]);
    await cron();
    expect(await enqueueState(id)).toBe("given_up");
    const job = await getJob(c.key, id);
    expect(job).toMatchObject({ status: "failed", counts: { failed: 3, queued: 0 } });
    expect(job.charged.amount_micros).toBe(0);
    const item = await store.item(id, 0);
    expect(item?.errorCode).toBe("JOBS_QUEUE_UNAVAILABLE");
    expect(await usageRows(id)).toEqual([]);
  });

  it("a job left pending (the Worker died before its messages went out) is enqueued again by the cron and completes", async () => {
    const c = await newCustomer("batch");
    const clock = new ManualClock(Date.now() - UNQUEUED_GRACE_MS - 1_000);
    // The messages are lost (a holding queue never delivers) and the job reads pending, as a crash leaves it.
    const lost = holdingQueue();
    const store = new QueuedD1JobStore(openD1(env.DB), lost.queue, { clock });
    const job = await store.create(newJob(c, ITEMS.slice(0, 2)));
    expect(await enqueueState(job.id)).toBe("sent");
    await env.DB.prepare("update jobs set enqueue_state = 'pending' where id = ?1").bind(job.id).run();
    // A young pending job is left alone (its create may still be sending).
    const young = await new QueuedD1JobStore(openD1(env.DB), lost.queue).create(newJob(c, ITEMS.slice(0, 1)));
    await env.DB.prepare("update jobs set enqueue_state = 'pending' where id = ?1").bind(young.id).run();
    await cron();
    expect(await enqueueState(job.id)).toBe("sent");
    expect(await enqueueState(young.id)).toBe("pending");
    // The cron sent its messages on the Worker's real Queue: its consumer runs the items.
    await eventually(
      async () => (await getJob(c.key, job.id)).status === "succeeded",
      60_000,
      "the swept job to succeed",
    );
    expect((await usageRows(job.id)).map((r) => r.request_id)).toEqual([`${job.id}.0`, `${job.id}.1`]);
    await store.cancel(young.id);
  });

  it("a pending job the Queue keeps refusing waits, and is failed once it is a day old", async () => {
    const c = await newCustomer("batch");
    const clock = new ManualClock(Date.now() - UNQUEUED_GRACE_MS - 1_000);
    const lost = holdingQueue();
    const creator = new QueuedD1JobStore(openD1(env.DB), lost.queue, { clock });
    const job = await creator.create(newJob(c, ITEMS.slice(0, 1)));
    await env.DB.prepare("update jobs set enqueue_state = 'pending' where id = ?1").bind(job.id).run();
    const sweeper = new QueuedD1JobStore(openD1(env.DB), refusing, { clock: new ManualClock(Date.now()) });
    const options = { graceMs: UNQUEUED_GRACE_MS, giveUpMs: UNQUEUED_GIVE_UP_MS };
    expect(await sweeper.sweepUnqueued(options)).toMatchObject({ waiting: 1, failed: 0 });
    expect((await itemStates(job.id)).map((i) => i.state)).toEqual(["queued"]);
    const later = new QueuedD1JobStore(openD1(env.DB), refusing, {
      clock: new ManualClock(Date.now() + UNQUEUED_GIVE_UP_MS),
    });
    expect(await later.sweepUnqueued(options)).toMatchObject({ failed: 1 });
    expect(await enqueueState(job.id)).toBe("given_up");
    expect((await itemStates(job.id)).map((i) => i.state)).toEqual(["failed"]);
    expect((await getJob(c.key, job.id)).status).toBe("failed");
  });
});
