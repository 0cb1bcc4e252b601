/**
 * A queue with jobs in every kind of state, built through the JobStore port, and the counts it must report: the
 * metrics' state counts are checked against it on every store (and every way of counting).
 */
import type { Stores } from "../../store/ports.ts";
import { type ManualClock, seedCustomer } from "../../store/testing/harness.ts";
import type { JobStateCounts } from "../metrics.ts";
import type { NewJob } from "../model.ts";
import type { JobStore } from "../ports.ts";

const LEASE_MS = 10_000;
const result = { audioMs: 1_000, tokens: 50, amountMicros: 650, pcmBytes: 44_100, pcmFormat: "22050/1/16" };
const boom = { code: "UPSTREAM_FAILED", message: "500" };

export const MIXED_QUEUE_COUNTS: JobStateCounts = {
  jobs: { queued: 1, running: 1, succeeded: 1, failed: 0, cancelled: 1, completed_with_errors: 1 },
  items: { queued: 2, running: 1, done: 3, failed: 1, dead_lettered: 1, cancelled: 2 },
};

/** Two customers' jobs: succeeded, completed with errors (a dead letter and a refusal), cancelled, running, queued. */
export async function buildMixedQueue(store: JobStore, stores: Stores, clock: ManualClock): Promise<void> {
  const a = await seedCustomer(stores, clock, { customerId: "cus_mix_a" });
  const b = await seedCustomer(stores, clock, { customerId: "cus_mix_b" });
  const newJob = (customerId: string, texts: string[]): NewJob => ({
    customerId,
    apiKeyId: customerId === a.customer.id ? a.key.id : b.key.id,
    planId: a.plan.id,
    pool: "shared",
    preferOffPeak: false,
    maxAttempts: 2,
    items: texts.map((text) => ({ text, voice: 0, speed: 1 })),
  });
  const claim = (limit = 10) => store.claim({ limit, leaseMs: LEASE_MS, pools: ["shared"] });
  const leases = async () => new Map((await claim()).map((c) => [c.item.n, c.leaseToken]));
  const finish = async (jobId: string, n: number, lease: string) => {
    await store.beginFinish(jobId, n, lease);
    await store.complete(jobId, n, lease, result);
  };
  const ok = await store.create(newJob(a.customer.id, ["a", "b"]));
  const okLeases = await leases();
  await finish(ok.id, 0, okLeases.get(0) ?? "");
  await finish(ok.id, 1, okLeases.get(1) ?? "");
  const mixed = await store.create(newJob(a.customer.id, ["ok", "dies", "refused"]));
  const mixedLeases = await leases();
  await finish(mixed.id, 0, mixedLeases.get(0) ?? "");
  await store.retry(mixed.id, 1, mixedLeases.get(1) ?? "", boom, clock.now() + 1);
  await store.fail(mixed.id, 2, mixedLeases.get(2) ?? "", boom);
  clock.advance(2);
  const [redelivered] = await claim();
  if (redelivered?.item.jobId !== mixed.id || redelivered.item.n !== 1) throw new Error("expected mixed.1 again");
  if ((await store.retry(mixed.id, 1, redelivered.leaseToken, boom, clock.now() + 1)) !== "dead") {
    throw new Error("expected a dead letter");
  }
  // cancelled with one item running and one queued
  const cancelled = await store.create(newJob(b.customer.id, ["c0", "c1"]));
  await claim(1);
  await store.cancel(cancelled.id);
  clock.advance(1);
  await store.create(newJob(b.customer.id, ["later"]));
  clock.advance(1);
  await store.create(newJob(b.customer.id, ["x", "y"]));
  // the oldest waiting item leased (running): the "later" job runs, the last one stays queued
  await claim(1);
}
