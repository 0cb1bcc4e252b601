import { beforeEach, describe, expect, it } from "vitest";
import { createMemoryStores } from "../store/memory/index.ts";
import type { Stores } from "../store/ports.ts";
import { ManualClock, type Seeded, seedCustomer } from "../store/testing/harness.ts";
import { InMemoryJobStore } from "./memory.ts";
import { instrumentJobStore, type JobItemOutcome, jobStateCounts, withStateCounts } from "./metrics.ts";
import type { ItemSpec, NewJob } from "./model.ts";
import type { JobStore } from "./ports.ts";
import { buildMixedQueue, MIXED_QUEUE_COUNTS } from "./testing/state-scenario.ts";

const LEASE_MS = 10_000;
const result = { audioMs: 1_000, tokens: 50, amountMicros: 650, pcmBytes: 44_100, pcmFormat: "22050/1/16" };
const boom = { code: "UPSTREAM_FAILED", message: "500" };
const spec = (text: string): ItemSpec => ({ text, voice: 0, speed: 1 });

describe("job metrics", () => {
  let clock: ManualClock;
  let stores: Stores;
  let seed: Seeded;
  let raw: InMemoryJobStore;
  let store: JobStore;
  let counted: { outcome: JobItemOutcome; tokens: number | null; count: number }[];
  const newJob = (texts: string[], maxAttempts = 2): NewJob => ({
    customerId: seed.customer.id,
    apiKeyId: seed.key.id,
    planId: seed.plan.id,
    pool: "shared",
    preferOffPeak: false,
    maxAttempts,
    items: texts.map(spec),
  });
  const claim = (limit = 10) => store.claim({ limit, leaseMs: LEASE_MS, pools: ["shared"] });
  const tally = () => {
    const out: Partial<Record<JobItemOutcome, number>> = {};
    for (const c of counted) out[c.outcome] = (out[c.outcome] ?? 0) + c.count;
    return out;
  };

  beforeEach(async () => {
    clock = new ManualClock(Date.UTC(2026, 2, 2, 12));
    stores = createMemoryStores({ clock });
    seed = await seedCustomer(stores, clock);
    raw = new InMemoryJobStore({ clock });
    counted = [];
    store = instrumentJobStore(raw, {
      jobItem: (outcome, charged, count = 1) => counted.push({ outcome, tokens: charged?.tokens ?? null, count }),
    });
  });

  it("counts each stored outcome once: done (with what it was charged), retried, dead-lettered, failed, cancelled", async () => {
    const job = await store.create(newJob(["done", "dies", "refused", "cancelled"]));
    const claimed = await claim();
    const lease = (n: number) => claimed.find((c) => c.item.n === n)?.leaseToken ?? "";
    expect(claimed.length).toBe(4);

    expect(await store.beginFinish(job.id, 0, lease(0))).toBe("ok");
    expect(await store.complete(job.id, 0, lease(0), result)).toBe(true);
    // completing again (a late duplicate) changes nothing and counts nothing
    expect(await store.complete(job.id, 0, lease(0), result)).toBe(false);

    expect(await store.retry(job.id, 1, lease(1), boom, clock.now() + 1)).toBe("retrying");
    clock.advance(2);
    const again = await claim();
    expect(again.map((c) => c.item.n)).toEqual([1]);
    expect(await store.retry(job.id, 1, again[0]?.leaseToken ?? "", boom, clock.now() + 1)).toBe("dead");

    expect(await store.fail(job.id, 2, lease(2), { code: "UNKNOWN_VOICE", message: "no" })).toBe(true);

    // Item 3 is running when the job is cancelled: cancelled then, and its worker's beginFinish adds nothing.
    const cancelled = await store.cancel(job.id);
    expect(cancelled?.counts.cancelled).toBe(1);
    expect(await store.beginFinish(job.id, 3, lease(3))).toBe("cancelled");
    // cancelling a finished job again cancels nothing more
    await store.cancel(job.id);

    expect(tally()).toEqual({ done: 1, retried: 1, dead_lettered: 1, failed: 1, cancelled: 1 });
    expect(counted.find((c) => c.outcome === "done")?.tokens).toBe(50);
    expect(counted.filter((c) => c.tokens !== null).length).toBe(1);
  });

  it("an item redelivered after its lease ran out is counted once, for the worker whose transition took effect", async () => {
    const job = await store.create(newJob(["slow"]));
    const [first] = await claim();
    clock.advance(LEASE_MS + 1);
    const [second] = await claim();
    expect(second?.item.n).toBe(0);
    expect(await store.beginFinish(job.id, 0, first?.leaseToken ?? "")).toBe("lost");
    expect(await store.beginFinish(job.id, 0, second?.leaseToken ?? "")).toBe("ok");
    expect(await store.complete(job.id, 0, second?.leaseToken ?? "", result)).toBe(true);
    expect(await store.complete(job.id, 0, first?.leaseToken ?? "", result)).toBe(false);
    expect(tally()).toEqual({ done: 1 });
  });

  it("passes every other method through to the store", async () => {
    const job = await store.create(newJob(["a", "b"]));
    expect((await store.get(job.id))?.counts.queued).toBe(2);
    expect(await store.stats()).toEqual(await raw.stats());
    expect((await store.list(seed.customer.id)).map((j) => j.job.id)).toEqual([job.id]);
    expect(await store.activeUsage(seed.customer.id)).toEqual({ jobs: 1, items: 2 });
    expect(counted).toEqual([]);
  });

  it("counts jobs by status and items by state, dead letters apart from other failures", async () => {
    await buildMixedQueue(store, stores, clock);
    const counts = await jobStateCounts(store, stores.customers);
    expect(counts).toEqual(MIXED_QUEUE_COUNTS);

    // A store that counts itself is asked instead.
    const own = { ...counts, jobs: { ...counts.jobs, queued: 99 } };
    const counting = withStateCounts(store, async () => own);
    expect(await jobStateCounts(counting, stores.customers)).toBe(own);
    // ... and it still is the store, wrapped again by the instrumentation as compose does
    const both = instrumentJobStore(counting, { jobItem: () => {} });
    expect(await jobStateCounts(both, stores.customers)).toBe(own);
    expect(await both.stats()).toEqual(await raw.stats());
  });
});
