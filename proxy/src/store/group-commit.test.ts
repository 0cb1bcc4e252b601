import { readFile } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeEach, describe, expect, it } from "vitest";
import { GroupCommitClosedError, GroupCommitLedger } from "./group-commit.ts";
import { createMemoryStores } from "./memory/index.ts";
import type { AppendOutcome, Stores, UsageEvent, UsageLedger } from "./ports.ts";
import { ManualClock, type Seeded, seedCustomer, usageEvent } from "./testing/harness.ts";

/**
 * Wraps a ledger to observe transactions: counts them, can fail one, can take time like a remote database, and
 * records which request ids are committed, so a test can check that no caller heard "done" before its commit.
 */
class ObservedLedger implements UsageLedger {
  transactions = 0;
  readonly committed = new Set<string>();
  failNext = false;

  constructor(
    private readonly inner: UsageLedger,
    private readonly latencyMs = 0,
  ) {}

  async append(events: readonly UsageEvent[]): Promise<AppendOutcome[]> {
    this.transactions++;
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    if (this.failNext) {
      this.failNext = false;
      throw new Error("disk I/O error");
    }
    const outcomes = await this.inner.append(events);
    for (const e of events) this.committed.add(e.requestId);
    return outcomes;
  }

  usageByDay(query: Parameters<UsageLedger["usageByDay"]>[0]) {
    return this.inner.usageByDay(query);
  }

  totals(query: Parameters<UsageLedger["totals"]>[0]) {
    return this.inner.totals(query);
  }
}

describe("GroupCommitLedger", () => {
  let stores: Stores;
  let seed: Seeded;
  const range = { fromMs: 0, toMs: Number.MAX_SAFE_INTEGER };

  beforeEach(async () => {
    const clock = new ManualClock();
    stores = createMemoryStores({ clock });
    seed = await seedCustomer(stores, clock);
  });

  const events = (n: number, prefix = "req") =>
    Array.from({ length: n }, (_, i) => usageEvent(seed, { requestId: `${prefix}_${i}` }));

  it("commits 1,000 concurrent appends in far fewer transactions, resolving each only after its commit", async () => {
    const observed = new ObservedLedger(stores.ledger, 1);
    const ledger = new GroupCommitLedger(observed, { maxBatch: 128, maxDelayMs: 2 });
    const acknowledgedBeforeCommit: string[] = [];

    const appends = events(1_000).map((event) =>
      ledger.append([event]).then((outcomes) => {
        if (!observed.committed.has(event.requestId)) acknowledgedBeforeCommit.push(event.requestId);
        return outcomes;
      }),
    );
    const outcomes = await Promise.all(appends);

    expect(outcomes.every((o) => o.length === 1 && o[0]?.inserted === true)).toBe(true);
    expect(acknowledgedBeforeCommit).toEqual([]);
    expect(observed.transactions).toBeLessThanOrEqual(Math.ceil(1_000 / 128) + 1);
    expect(ledger.stats()).toMatchObject({ events: 1_000, largestBatch: 128, failedFlushes: 0 });
    expect((await ledger.totals(range))[0]?.events).toBe(1_000);
  });

  it("never strands appends made by callers resumed as their batch commits (closed loop, maxBatch = callers)", async () => {
    const ledger = new GroupCommitLedger(stores.ledger, { maxBatch: 64, maxDelayMs: 60_000 });
    let next = 0;
    const caller = async () => {
      for (let i = 0; i < 20; i++) await ledger.append([usageEvent(seed, { requestId: `loop_${next++}` })]);
    };
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error("appends stranded")), 5_000));
    await Promise.race([Promise.all(Array.from({ length: 64 }, caller)), timeout]);
    expect((await ledger.totals(range))[0]?.events).toBe(64 * 20);
  });

  it("groups appends made in the same turn with maxDelayMs 0", async () => {
    const observed = new ObservedLedger(stores.ledger);
    const ledger = new GroupCommitLedger(observed, { maxBatch: 10_000, maxDelayMs: 0 });
    await Promise.all(events(300).map((e) => ledger.append([e])));
    expect(observed.transactions).toBe(1);
  });

  it("with maxDelayMs 0 a lone append commits at the end of its event-loop turn, before any timer", async () => {
    const observed = new ObservedLedger(stores.ledger);
    const ledger = new GroupCommitLedger(observed, { maxBatch: 10_000, maxDelayMs: 0 });
    const order: string[] = [];
    await new Promise<void>((resolve) => {
      // In an I/O callback, as a request handler is: setImmediate runs before a 0 ms timer.
      readFile(fileURLToPath(import.meta.url), () => {
        void ledger.append(events(1, "lone")).then(() => order.push("committed"));
        setTimeout(() => {
          order.push("timer");
          resolve();
        }, 0);
      });
    });
    expect(order).toEqual(["committed", "timer"]);
    // appends from several callbacks of one turn still share a transaction
    const before = observed.transactions;
    await Promise.all(
      [0, 1, 2].map(
        (i) =>
          new Promise<void>((resolve) => {
            queueMicrotask(() => void ledger.append(events(1, `turn${i}`)).then(() => resolve()));
          }),
      ),
    );
    expect(observed.transactions - before).toBe(1);
  });

  it("flushes at maxBatch without waiting for the delay", async () => {
    const observed = new ObservedLedger(stores.ledger);
    const ledger = new GroupCommitLedger(observed, { maxBatch: 10, maxDelayMs: 60_000 });
    const started = Date.now();
    await Promise.all(events(10).map((e) => ledger.append([e])));
    expect(Date.now() - started).toBeLessThan(30_000); // half the delay: it did not wait for it
    expect(observed.transactions).toBe(1);
  });

  it("rejects every caller of a failed transaction and writes none of its rows; later batches still commit", async () => {
    const observed = new ObservedLedger(stores.ledger);
    const ledger = new GroupCommitLedger(observed, { maxBatch: 50, maxDelayMs: 1 });
    observed.failNext = true;

    const first = await Promise.allSettled(events(50, "lost").map((e) => ledger.append([e])));
    expect(first.every((r) => r.status === "rejected")).toBe(true);
    expect(first[0]?.status === "rejected" && String(first[0].reason)).toContain("disk I/O error");
    expect(await ledger.totals(range)).toEqual([]);

    const second = await Promise.allSettled(events(50, "kept").map((e) => ledger.append([e])));
    expect(second.every((r) => r.status === "fulfilled")).toBe(true);
    expect((await ledger.totals(range))[0]?.events).toBe(50);
    expect(ledger.stats().failedFlushes).toBe(1);
  });

  it("refuses a malformed event alone, without failing the batch it would have joined", async () => {
    const ledger = new GroupCommitLedger(stores.ledger, { maxDelayMs: 1 });
    const results = await Promise.allSettled([
      ledger.append([usageEvent(seed, { requestId: "ok_1" })]),
      ledger.append([usageEvent(seed, { requestId: "bad", tokens: -1 })]),
      ledger.append([usageEvent(seed, { requestId: "ok_2" })]),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((await ledger.totals(range))[0]?.events).toBe(2);
  });

  it("returns each caller its own outcomes, duplicates across callers included", async () => {
    const ledger = new GroupCommitLedger(stores.ledger, { maxDelayMs: 1 });
    const [a, b, c] = await Promise.all([
      ledger.append([usageEvent(seed, { requestId: "x" }), usageEvent(seed, { requestId: "y" })]),
      ledger.append([usageEvent(seed, { requestId: "x" })]),
      ledger.append([usageEvent(seed, { requestId: "z" })]),
    ]);
    expect(a).toEqual([{ inserted: true }, { inserted: true }]);
    expect(b).toEqual([{ inserted: false }]);
    expect(c).toEqual([{ inserted: true }]);
  });

  it("commits a caller larger than maxBatch in one transaction of its own", async () => {
    const observed = new ObservedLedger(stores.ledger);
    const ledger = new GroupCommitLedger(observed, { maxBatch: 10, maxDelayMs: 1 });
    const outcomes = await ledger.append(events(25));
    expect(outcomes).toHaveLength(25);
    expect(observed.transactions).toBe(1);
  });

  it("flushes what is queued on close, then refuses appends", async () => {
    const ledger = new GroupCommitLedger(stores.ledger, { maxDelayMs: 60_000 });
    const pending = ledger.append(events(3));
    await ledger.close();
    expect(await pending).toHaveLength(3);
    await expect(ledger.append(events(1, "late"))).rejects.toBeInstanceOf(GroupCommitClosedError);
  });
});
