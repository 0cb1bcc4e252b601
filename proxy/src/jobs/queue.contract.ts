/**
 * The JobStore contract (the durable queue): every implementation must pass it (memory, SQLite; the edge's too).
 * Web-standard, so it can run in workerd as well.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Clock, Stores } from "../store/ports.ts";
import { ManualClock, type Seeded, seedCustomer } from "../store/testing/harness.ts";
import { derivedSeed, type ItemSpec, jobStatus, type NewJob } from "./model.ts";
import type { ClaimedItem, JobStore } from "./ports.ts";

export interface JobStoreHarness {
  jobs: JobStore;
  /** the stores of the same database (customers, keys and plans the jobs refer to) */
  stores: Stores;
  close?(): void | Promise<void>;
}

export interface JobStoreContractOptions {
  name: string;
  make: (clock: Clock, retentionMs: number) => JobStoreHarness | Promise<JobStoreHarness>;
}

const RETENTION_MS = 3_600_000;
const LEASE_MS = 60_000;

const pcm = { pcmBytes: 44_100, pcmFormat: "22050/1/16" };
const spec = (text: string, extra: Partial<ItemSpec> = {}): ItemSpec => ({ text, voice: 0, speed: 1, ...extra });

export function runJobStoreContract({ name, make }: JobStoreContractOptions): void {
  describe(`JobStore contract (${name})`, () => {
    let clock: ManualClock;
    let harness: JobStoreHarness;
    let jobs: JobStore;
    let seed: Seeded;

    beforeEach(async () => {
      clock = new ManualClock(Date.UTC(2026, 2, 2, 12));
      harness = await make(clock, RETENTION_MS);
      jobs = harness.jobs;
      seed = await seedCustomer(harness.stores, clock);
    });
    afterEach(async () => {
      await harness.close?.();
    });

    const newJob = (items: ItemSpec[], extra: Partial<NewJob> = {}): NewJob => ({
      customerId: seed.customer.id,
      apiKeyId: seed.key.id,
      planId: seed.plan.id,
      pool: "shared",
      preferOffPeak: false,
      maxAttempts: 3,
      items,
      ...extra,
    });
    const claim = (limit = 10, extra: { pools?: string[]; holdOffPeakForPlans?: string[] } = {}) =>
      jobs.claim({ limit, leaseMs: LEASE_MS, pools: extra.pools ?? ["shared"], ...extra });

    it("stores a job and its items, all queued, with seeds fixed at creation", async () => {
      const job = await jobs.create(newJob([spec("one"), spec("two", { seed: 7, emotion: "happy" })]));
      expect(job.id).toMatch(/^job_/);
      const got = await jobs.get(job.id);
      expect(got?.job).toMatchObject({ customerId: seed.customer.id, itemCount: 2, finishedAt: null });
      expect(got?.counts).toMatchObject({ queued: 2, running: 0, done: 0 });
      expect(got && jobStatus(got.job, got.counts)).toBe("queued");
      const items = await jobs.items(job.id);
      expect(items.map((i) => [i.n, i.text, i.seed, i.emotion, i.state])).toEqual([
        [0, "one", derivedSeed(job.id, 0), null, "queued"],
        [1, "two", 7, "happy", "queued"],
      ]);
      expect((await jobs.item(job.id, 1))?.text).toBe("two");
      expect(await jobs.item(job.id, 2)).toBeNull();
      expect(await jobs.get("job_missing")).toBeNull();
    });

    it("refuses a job without items", async () => {
      await expect(jobs.create(newJob([]))).rejects.toThrow();
    });

    it("claims due items oldest first, leases them, and counts an attempt", async () => {
      const first = await jobs.create(newJob([spec("a0"), spec("a1")]));
      clock.advance(1);
      const second = await jobs.create(newJob([spec("b0")]));
      const claimed = await claim(2);
      expect(claimed.map((c) => [c.job.id, c.item.n, c.item.state, c.item.attempts])).toEqual([
        [first.id, 0, "running", 1],
        [first.id, 1, "running", 1],
      ]);
      expect(new Set(claimed.map((c) => c.leaseToken)).size).toBe(2);
      // Leased items are not handed out again while the lease holds.
      const next = await claim(10);
      expect(next.map((c) => [c.job.id, c.item.n])).toEqual([[second.id, 0]]);
      expect(await claim(10)).toEqual([]);
      expect((await jobs.get(first.id))?.counts.running).toBe(2);
    });

    it("claims fairly across customers: a small job queued after a huge one starts within the next claims", async () => {
      const other = await seedCustomer(harness.stores, clock, { customerId: "cus_small" });
      const huge = await jobs.create(newJob(Array.from({ length: 50 }, (_, i) => spec(`a${i}`))));
      clock.advance(1);
      const small = await jobs.create(
        newJob([spec("b0"), spec("b1")], { customerId: other.customer.id, apiKeyId: other.key.id }),
      );
      // One claim: round-robin, the customer served least recently first (neither was served: the older item first).
      expect(await jobs.nextCustomer({ pools: ["shared"] })).toBe(seed.customer.id);
      expect(await jobs.nextCustomer({ pools: ["acme"] })).toBeNull();
      const first = await claim(3);
      expect(first.map((c) => [c.job.id, c.item.n])).toEqual([
        [huge.id, 0],
        [small.id, 0],
        [huge.id, 1],
      ]);
      // A worker that takes one item at a time and finishes it before the next claim still alternates: the small
      // customer got fewer items in the last claim, so it goes first now.
      const finish = async (c: ClaimedItem | undefined) => {
        expect(
          await jobs.fail(c?.job.id ?? "", c?.item.n ?? -1, c?.leaseToken ?? "", { code: "X", message: "x" }),
        ).toBe(true);
      };
      for (const c of first) await finish(c);
      // Read only: asking leases nothing and changes no turn.
      expect(await jobs.nextCustomer({ pools: ["shared"] })).toBe(other.customer.id);
      expect(await jobs.nextCustomer({ pools: ["shared"] })).toBe(other.customer.id);
      const next = await claim(1);
      expect(next.map((c) => [c.job.id, c.item.n])).toEqual([[small.id, 1]]);
      await finish(next[0]);
      // The small job is done; the huge one goes on, oldest first, alone.
      expect((await claim(2)).map((c) => [c.job.id, c.item.n])).toEqual([
        [huge.id, 2],
        [huge.id, 3],
      ]);
      expect((await jobs.get(small.id))?.job.finishedAt).toBe(clock.now());
      expect(await jobs.nextCustomer({ pools: ["shared"] })).toBe(seed.customer.id);
      clock.advance(LEASE_MS);
      await jobs.cancel(huge.id);
      expect(await jobs.nextCustomer({ pools: ["shared"] })).toBeNull();
    });

    it("serves customers least recently served first, one item per claim, whatever their queue lengths", async () => {
      const customers = [
        seed,
        ...(await Promise.all(["cus_b", "cus_c"].map((id) => seedCustomer(harness.stores, clock, { customerId: id })))),
      ];
      const made: string[] = [];
      for (const [i, c] of customers.entries()) {
        const items = Array.from({ length: 10 - 4 * i }, (_, n) => spec(`${i}.${n}`));
        made.push((await jobs.create(newJob(items, { customerId: c.customer.id, apiKeyId: c.key.id }))).id);
        clock.advance(1);
      }
      const order: string[] = [];
      for (let k = 0; k < 9; k++) {
        const [c] = await claim(1);
        order.push(`${made.indexOf(c?.job.id ?? "")}.${c?.item.n}`);
        await jobs.fail(c?.job.id ?? "", c?.item.n ?? -1, c?.leaseToken ?? "", { code: "X", message: "x" });
      }
      // Customers 0, 1, 2 in turn (each one's own items in order); customer 2 has 2 items, customer 1 has 6.
      expect(order).toEqual(["0.0", "1.0", "2.0", "0.1", "1.1", "2.1", "0.2", "1.2", "0.3"]);
    });

    it("delivers at least once: an item whose lease ran out is claimed again, and the old lease is dead", async () => {
      const job = await jobs.create(newJob([spec("x")]));
      const [a] = await claim();
      clock.advance(LEASE_MS - 1);
      expect(await claim()).toEqual([]);
      clock.advance(1);
      const [b] = await claim();
      expect(b?.item.attempts).toBe(2);
      expect(b?.leaseToken).not.toBe(a?.leaseToken);
      const stale = a?.leaseToken ?? "";
      expect(await jobs.beginFinish(job.id, 0, stale)).toBe("lost");
      expect(await jobs.complete(job.id, 0, stale, { ...pcm, audioMs: 1, tokens: 1, amountMicros: 1 })).toBe(false);
      expect(await jobs.retry(job.id, 0, stale, { code: "X", message: "x" }, clock.now())).toBe("lost");
      expect(await jobs.fail(job.id, 0, stale, { code: "X", message: "x" })).toBe(false);
      expect(await jobs.release(job.id, 0, stale, clock.now())).toBe(false);
      expect(await jobs.beginFinish(job.id, 0, b?.leaseToken ?? "")).toBe("ok");
    });

    it("never leases one item to two concurrent claims", async () => {
      await jobs.create(newJob(Array.from({ length: 30 }, (_, i) => spec(`t${i}`))));
      const results = await Promise.all([claim(20), claim(20), claim(20)]);
      const keys = results.flat().map((c) => `${c.item.jobId}.${c.item.n}`);
      expect(keys.length).toBe(30);
      expect(new Set(keys).size).toBe(30);
    });

    it("claims only from the pools given, and holds off-peak jobs of plans at peak", async () => {
      const dedicated = await jobs.create(newJob([spec("d")], { pool: "acme" }));
      const offPeak = await jobs.create(newJob([spec("o")], { preferOffPeak: true }));
      const anytime = await jobs.create(newJob([spec("n")]));
      const held = await claim(10, { holdOffPeakForPlans: [seed.plan.id] });
      expect(held.map((c) => c.job.id)).toEqual([anytime.id]);
      const other = await claim(10, { holdOffPeakForPlans: ["another-plan"] });
      expect(other.map((c) => c.job.id)).toEqual([offPeak.id]);
      expect((await claim(10, { pools: ["acme"] })).map((c) => c.job.id)).toEqual([dedicated.id]);
    });

    it("claims one named item only when it is due and passes the filters", async () => {
      const job = await jobs.create(newJob([spec("a"), spec("b"), spec("c")]));
      const offPeak = await jobs.create(newJob([spec("o")], { preferOffPeak: true }));
      const one = (jobId: string, n: number, extra: { pools?: string[]; holdOffPeakForPlans?: string[] } = {}) =>
        jobs.claim({ limit: 10, leaseMs: LEASE_MS, pools: extra.pools ?? ["shared"], ...extra, only: { jobId, n } });
      const [b] = await one(job.id, 1);
      expect([b?.item.n, b?.item.state, b?.item.attempts]).toEqual([1, "running", 1]);
      expect(await one(job.id, 1)).toEqual([]);
      expect(await one(job.id, 7)).toEqual([]);
      expect(await one(job.id, 2, { pools: ["acme"] })).toEqual([]);
      expect(await one(offPeak.id, 0, { holdOffPeakForPlans: [seed.plan.id] })).toEqual([]);
      expect((await one(offPeak.id, 0)).map((c) => c.item.jobId)).toEqual([offPeak.id]);
      // The others are untouched and still claimable in order.
      expect((await claim(10)).map((c) => c.item.n)).toEqual([0, 2]);
    });

    it("completes an item: finishing, then done with its metering; the job finishes and expires after retention", async () => {
      const job = await jobs.create(newJob([spec("a"), spec("b")], { callbackUrl: "https://example.test/hook" }));
      const claimed = await claim();
      for (const c of claimed) {
        expect(await jobs.beginFinish(job.id, c.item.n, c.leaseToken)).toBe("ok");
        expect((await jobs.item(job.id, c.item.n))?.state).toBe("finishing");
      }
      const [a, b] = claimed;
      expect(
        await jobs.complete(job.id, 0, a?.leaseToken ?? "", { ...pcm, audioMs: 1500, tokens: 75, amountMicros: 975 }),
      ).toBe(true);
      expect((await jobs.get(job.id))?.job.finishedAt).toBeNull();
      expect(await jobs.dueCallbacks(10)).toEqual([]);
      clock.advance(5);
      expect(
        await jobs.complete(job.id, 1, b?.leaseToken ?? "", { ...pcm, audioMs: 10, tokens: 1, amountMicros: 13 }),
      ).toBe(true);
      // Completing twice is refused (the lease is spent).
      expect(
        await jobs.complete(job.id, 1, b?.leaseToken ?? "", { ...pcm, audioMs: 10, tokens: 1, amountMicros: 13 }),
      ).toBe(false);
      const got = await jobs.get(job.id);
      expect(got?.counts).toMatchObject({ done: 2, queued: 0, running: 0, finishing: 0 });
      expect(got?.totals).toEqual({ audioMs: 1510, tokens: 76, amountMicros: 988 });
      expect(got?.job.finishedAt).toBe(clock.now());
      expect(got?.job.expiresAt).toBe(clock.now() + RETENTION_MS);
      expect(got && jobStatus(got.job, got.counts)).toBe("succeeded");
      expect(await jobs.item(job.id, 0)).toMatchObject({
        state: "done",
        audioMs: 1500,
        tokens: 75,
        amountMicros: 975,
        pcmBytes: 44_100,
        pcmFormat: "22050/1/16",
        leaseToken: null,
      });
      expect((await jobs.dueCallbacks(10)).map((j) => j.job.id)).toEqual([job.id]);
      expect(await jobs.expired(10)).toEqual([]);
      clock.advance(RETENTION_MS);
      expect((await jobs.expired(10)).map((j) => j.id)).toEqual([job.id]);
      expect(await jobs.delete(job.id)).toBe(true);
      expect(await jobs.get(job.id)).toBeNull();
      expect(await jobs.items(job.id)).toEqual([]);
      expect(await jobs.delete(job.id)).toBe(false);
    });

    it("retries with the given backoff and dead-letters after max attempts with a clear error", async () => {
      const job = await jobs.create(newJob([spec("flaky")], { maxAttempts: 2 }));
      const [first] = await claim();
      const error = { code: "UPSTREAM_FAILED", message: "node answered 500" };
      expect(await jobs.retry(job.id, 0, first?.leaseToken ?? "", error, clock.now() + 1000)).toBe("retrying");
      expect(await jobs.item(job.id, 0)).toMatchObject({ state: "queued", attempts: 1, errorCode: "UPSTREAM_FAILED" });
      expect(await jobs.nextDueAt()).toBe(clock.now() + 1000);
      clock.advance(999);
      expect(await claim()).toEqual([]);
      clock.advance(1);
      const [second] = await claim();
      expect(second?.item.attempts).toBe(2);
      expect(await jobs.retry(job.id, 0, second?.leaseToken ?? "", error, clock.now() + 1000)).toBe("dead");
      const dead = await jobs.item(job.id, 0);
      expect(dead?.state).toBe("failed");
      expect(dead?.errorCode).toBe("ATTEMPTS_EXHAUSTED");
      expect(dead?.errorMessage).toContain("2 attempts");
      expect(dead?.errorMessage).toContain("UPSTREAM_FAILED");
      const got = await jobs.get(job.id);
      expect(got && jobStatus(got.job, got.counts)).toBe("failed");
      expect(got?.job.finishedAt).toBe(clock.now());
      expect(await jobs.nextDueAt()).toBeNull();
    });

    it("fails an item for good on a refused request, and the job reads completed_with_errors", async () => {
      const job = await jobs.create(newJob([spec("ok"), spec("bad")]));
      const [ok, bad] = await claim();
      expect(await jobs.fail(job.id, 1, bad?.leaseToken ?? "", { code: "UNKNOWN_VOICE", message: "no voice 9" })).toBe(
        true,
      );
      expect(await jobs.item(job.id, 1)).toMatchObject({ state: "failed", errorCode: "UNKNOWN_VOICE" });
      await jobs.beginFinish(job.id, 0, ok?.leaseToken ?? "");
      await jobs.complete(job.id, 0, ok?.leaseToken ?? "", { ...pcm, audioMs: 1, tokens: 1, amountMicros: 1 });
      const got = await jobs.get(job.id);
      expect(got && jobStatus(got.job, got.counts)).toBe("completed_with_errors");
    });

    it("gives up on a queued or running item whoever holds it; a finishing or final one is left alone", async () => {
      const job = await jobs.create(newJob([spec("queued"), spec("running"), spec("finishing"), spec("done")]));
      const claimed = await claim(4);
      const lease = (n: number) => claimed.find((c) => c.item.n === n)?.leaseToken ?? "";
      await jobs.release(job.id, 0, lease(0), clock.now());
      await jobs.beginFinish(job.id, 2, lease(2));
      await jobs.beginFinish(job.id, 3, lease(3));
      await jobs.complete(job.id, 3, lease(3), { ...pcm, audioMs: 1, tokens: 1, amountMicros: 1 });
      const error = { code: "ATTEMPTS_EXHAUSTED", message: "gave up" };
      expect(await jobs.giveUp(job.id, 0, error)).toBe(true);
      expect(await jobs.giveUp(job.id, 1, error)).toBe(true);
      expect(await jobs.giveUp(job.id, 2, error)).toBe(false);
      expect(await jobs.giveUp(job.id, 3, error)).toBe(false);
      expect(await jobs.giveUp(job.id, 9, error)).toBe(false);
      expect(await jobs.item(job.id, 1)).toMatchObject({
        state: "failed",
        errorCode: "ATTEMPTS_EXHAUSTED",
        leaseToken: null,
      });
      // The running item's worker finds out at beginFinish: nothing of it is charged.
      expect(await jobs.beginFinish(job.id, 1, lease(1))).toBe("lost");
      expect((await jobs.get(job.id))?.job.finishedAt).toBeNull();
      expect(await jobs.complete(job.id, 2, lease(2), { ...pcm, audioMs: 1, tokens: 1, amountMicros: 1 })).toBe(true);
      const got = await jobs.get(job.id);
      expect(got?.counts).toMatchObject({ failed: 2, done: 2 });
      expect(got?.job.finishedAt).toBe(clock.now());
      expect(got && jobStatus(got.job, got.counts)).toBe("completed_with_errors");
    });

    it("releases an item without spending an attempt", async () => {
      const job = await jobs.create(newJob([spec("x")], { maxAttempts: 1 }));
      const [c] = await claim();
      expect(await jobs.release(job.id, 0, c?.leaseToken ?? "", clock.now() + 500)).toBe(true);
      expect(await jobs.item(job.id, 0)).toMatchObject({ state: "queued", attempts: 0, leaseToken: null });
      expect(await claim()).toEqual([]);
      clock.advance(500);
      expect((await claim())[0]?.item.attempts).toBe(1);
    });

    it("cancels: queued and running items are cancelled (never charged), finishing ones still complete", async () => {
      const job = await jobs.create(newJob([spec("finishing"), spec("running"), spec("queued")]));
      const [f, r] = await claim(2);
      expect(await jobs.beginFinish(job.id, 0, f?.leaseToken ?? "")).toBe("ok");
      clock.advance(10);
      const cancelled = await jobs.cancel(job.id);
      expect(cancelled?.counts).toMatchObject({ finishing: 1, cancelled: 2, queued: 0, running: 0 });
      expect(cancelled?.job.cancelledAt).toBe(clock.now());
      expect(cancelled?.job.finishedAt).toBeNull();
      // The running item's worker learns it at beginFinish, and nothing of the job is claimable any more.
      expect(await jobs.beginFinish(job.id, 1, r?.leaseToken ?? "")).toBe("cancelled");
      expect(await claim()).toEqual([]);
      expect(
        await jobs.complete(job.id, 0, f?.leaseToken ?? "", { ...pcm, audioMs: 1, tokens: 1, amountMicros: 1 }),
      ).toBe(true);
      const got = await jobs.get(job.id);
      expect(got?.counts).toMatchObject({ done: 1, cancelled: 2 });
      expect(got?.job.finishedAt).toBe(clock.now());
      expect(got && jobStatus(got.job, got.counts)).toBe("cancelled");
      // Cancelling a finished job changes nothing.
      clock.advance(10);
      expect((await jobs.cancel(job.id))?.job.cancelledAt).toBe(got?.job.cancelledAt);
      expect(await jobs.cancel("job_missing")).toBeNull();
    });

    it("keeps a finishing item finishing when it is claimed again or retried, without spending attempts", async () => {
      const job = await jobs.create(newJob([spec("x")], { maxAttempts: 1 }));
      const [a] = await claim();
      await jobs.beginFinish(job.id, 0, a?.leaseToken ?? "");
      const err = { code: "LEDGER", message: "disk full" };
      expect(await jobs.retry(job.id, 0, a?.leaseToken ?? "", err, clock.now() + 100)).toBe("retrying");
      clock.advance(100);
      const [b] = await claim();
      expect(b?.item).toMatchObject({ state: "finishing", attempts: 1 });
      clock.advance(LEASE_MS);
      const [c] = await claim();
      expect(c?.item).toMatchObject({ state: "finishing", attempts: 1 });
      expect(await jobs.beginFinish(job.id, 0, c?.leaseToken ?? "")).toBe("ok");
      expect(
        await jobs.complete(job.id, 0, c?.leaseToken ?? "", { ...pcm, audioMs: 1, tokens: 1, amountMicros: 1 }),
      ).toBe(true);
    });

    it("after a restart, makes every leased item due again and kills the old leases", async () => {
      const job = await jobs.create(newJob([spec("a"), spec("b"), spec("c")]));
      const [a, b] = await claim(2);
      await jobs.beginFinish(job.id, 1, b?.leaseToken ?? "");
      expect(await jobs.releaseAllLeases()).toBe(2);
      expect(await jobs.beginFinish(job.id, 0, a?.leaseToken ?? "")).toBe("lost");
      const again = await claim(10);
      expect(again.map((c) => [c.item.n, c.item.state])).toEqual([
        [0, "running"],
        [1, "finishing"],
        [2, "running"],
      ]);
    });

    it("reports active usage per customer, for quotas", async () => {
      const other = await seedCustomer(harness.stores, clock, { customerId: "cus_other" });
      const job = await jobs.create(newJob([spec("a"), spec("b")]));
      await jobs.create(newJob([spec("c")]));
      await jobs.create(newJob([spec("z")], { customerId: other.customer.id, apiKeyId: other.key.id }));
      expect(await jobs.activeUsage(seed.customer.id)).toEqual({ jobs: 2, items: 3 });
      const claimed = (await claim(10)).filter((c) => c.job.id === job.id);
      for (const c of claimed) await jobs.fail(job.id, c.item.n, c.leaseToken, { code: "X", message: "x" });
      expect(await jobs.activeUsage(seed.customer.id)).toEqual({ jobs: 1, items: 1 });
      expect(await jobs.activeUsage("cus_nobody")).toEqual({ jobs: 0, items: 0 });
    });

    it("lists a customer's jobs newest first, with paging", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        ids.push((await jobs.create(newJob([spec(`j${i}`)], { id: `job_${i}` }))).id);
        clock.advance(1);
      }
      const page = await jobs.list(seed.customer.id, { limit: 2 });
      expect(page.map((j) => j.job.id)).toEqual(["job_2", "job_1"]);
      const rest = await jobs.list(seed.customer.id, { limit: 2, beforeId: "job_1" });
      expect(rest.map((j) => j.job.id)).toEqual(["job_0"]);
      expect(await jobs.list("cus_nobody")).toEqual([]);
    });

    it("records callback deliveries: retried until delivered or given up", async () => {
      const job = await jobs.create(newJob([spec("a")], { callbackUrl: "https://example.test/hook" }));
      const [c] = await claim();
      await jobs.fail(job.id, 0, c?.leaseToken ?? "", { code: "X", message: "x" });
      expect((await jobs.dueCallbacks(10)).map((j) => j.job.id)).toEqual([job.id]);
      await jobs.recordCallback(job.id, { delivered: false, error: "HTTP 500", nextAt: clock.now() + 1000 });
      expect(await jobs.dueCallbacks(10)).toEqual([]);
      clock.advance(1000);
      const [due] = await jobs.dueCallbacks(10);
      expect(due?.job).toMatchObject({ callbackAttempts: 1, callbackLastError: "HTTP 500", callbackState: "pending" });
      await jobs.recordCallback(job.id, { delivered: true });
      expect((await jobs.get(job.id))?.job).toMatchObject({ callbackState: "delivered", callbackAttempts: 2 });
      expect(await jobs.dueCallbacks(10)).toEqual([]);

      const other = await jobs.create(newJob([spec("b")], { callbackUrl: "https://example.test/hook" }));
      const [d] = await claim();
      await jobs.fail(other.id, 0, d?.leaseToken ?? "", { code: "X", message: "x" });
      await jobs.recordCallback(other.id, { delivered: false, error: "refused", giveUp: true });
      expect((await jobs.get(other.id))?.job.callbackState).toBe("failed");
    });

    it("counts items over all jobs and tells when the next one is due", async () => {
      expect(await jobs.nextDueAt()).toBeNull();
      await jobs.create(newJob([spec("a"), spec("b"), spec("c")]));
      expect(await jobs.nextDueAt()).toBe(clock.now());
      await claim(1);
      expect(await jobs.stats()).toMatchObject({ queued: 2, running: 1, done: 0 });
    });
  });
}
