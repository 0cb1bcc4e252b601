/**
 * Group commit for the usage ledger. The proxy must not release a response before its usage row is committed, and a
 * commit per request caps throughput at the disk's fsync rate (or D1's round trips). So concurrent appends are queued
 * and written together: one ledger `append` (one transaction) for many requests.
 *
 * What "committed" means is the wrapped ledger's business. With SQLite in WAL mode and `synchronous=NORMAL` a commit
 * is in the WAL file: it survives a crash of the process (kill -9), but the last transactions may be lost if the
 * machine loses power before the next checkpoint; `synchronous=FULL` (see `openSqlite`) fsyncs every commit and
 * survives power loss, at a cost that group commit amortises over the batch.
 *
 * Runtime-agnostic: only Promise, setTimeout and, where the runtime has it, setImmediate.
 */
import type { AppendOutcome, DailyUsage, UsageByDayQuery, UsageEvent, UsageLedger, UsageTotals } from "./ports.ts";
import { InvalidUsageEventError, usageEventProblem } from "./validation.ts";

export interface GroupCommitOptions {
  /** Flush as soon as this many events are waiting. */
  maxBatch?: number;
  /**
   * Longest wait for more events before a flush. 0 flushes at the end of the current event-loop turn (setImmediate
   * where the runtime has it, else the next timer tick): every append made while the turn handled its ready sockets
   * goes into one transaction, and a lone request waits for nothing but its own commit.
   */
  maxDelayMs?: number;
}

export interface GroupCommitStats {
  /** Calls to the wrapped ledger's `append`, i.e. transactions. */
  flushes: number;
  events: number;
  largestBatch: number;
  failedFlushes: number;
}

interface Waiter {
  events: readonly UsageEvent[];
  resolve(outcomes: AppendOutcome[]): void;
  reject(error: unknown): void;
}

export class GroupCommitClosedError extends Error {
  override readonly name = "GroupCommitClosedError";
  readonly code = "LEDGER_CLOSED";
}

/**
 * @example
 * const ledger = new GroupCommitLedger(new SqliteUsageLedger(db), { maxBatch: 512, maxDelayMs: 2 });
 * const [outcome] = await ledger.append([event]); // resolves once the batch holding `event` is committed
 */
export class GroupCommitLedger implements UsageLedger {
  readonly #inner: UsageLedger;
  readonly #maxBatch: number;
  readonly #maxDelayMs: number;
  #waiting: Waiter[] = [];
  #waitingEvents = 0;
  /** cancels the pending flush, if one is scheduled */
  #timer: (() => void) | null = null;
  readonly #schedule: (task: () => void) => () => void;
  /** The batch being committed; one at a time, so transactions never overlap and the next batch grows meanwhile. */
  #draining: Promise<void> | null = null;
  #closed = false;
  readonly #stats: GroupCommitStats = { flushes: 0, events: 0, largestBatch: 0, failedFlushes: 0 };

  constructor(inner: UsageLedger, options: GroupCommitOptions = {}) {
    const { maxBatch = 512, maxDelayMs = 2 } = options;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError("maxBatch must be a positive integer");
    if (!(maxDelayMs >= 0)) throw new RangeError("maxDelayMs must be ≥ 0");
    this.#inner = inner;
    this.#maxBatch = maxBatch;
    this.#maxDelayMs = maxDelayMs;
    const immediate = maxDelayMs === 0 ? globalThis.setImmediate : undefined;
    this.#schedule = immediate
      ? (task) => {
          const handle = immediate(task);
          return () => clearImmediate(handle);
        }
      : (task) => {
          const handle = setTimeout(task, this.#maxDelayMs);
          return () => clearTimeout(handle);
        };
  }

  /** Resolves after the transaction holding these events committed; rejects if it failed (then none was written). */
  append(events: readonly UsageEvent[]): Promise<AppendOutcome[]> {
    if (this.#closed) return Promise.reject(new GroupCommitClosedError("the ledger is closed"));
    if (events.length === 0) return Promise.resolve([]);
    // A malformed event would fail the whole shared transaction; refuse it here so only its caller fails.
    for (const event of events) {
      const problem = usageEventProblem(event);
      if (problem !== null) return Promise.reject(new InvalidUsageEventError(event.requestId, problem));
    }
    return new Promise<AppendOutcome[]>((resolve, reject) => {
      this.#waiting.push({ events, resolve, reject });
      this.#waitingEvents += events.length;
      if (this.#waitingEvents >= this.#maxBatch) this.#flushNow();
      // While a batch commits, no timer: the drain takes whatever is waiting when it ends.
      else if (this.#draining === null) this.#timer ??= this.#schedule(this.#onTimer);
    });
  }

  /** Commits everything queued so far and waits for it. */
  async flush(): Promise<void> {
    while (this.#waiting.length > 0 || this.#draining !== null) {
      this.#flushNow();
      await this.#draining;
    }
  }

  /** Commits what is queued, then refuses new appends. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }

  stats(): GroupCommitStats {
    return { ...this.#stats };
  }

  usageByDay(query: UsageByDayQuery): Promise<DailyUsage[]> {
    return this.#inner.usageByDay(query);
  }

  totals(query: { customerId?: string; fromMs: number; toMs: number }): Promise<UsageTotals[]> {
    return this.#inner.totals(query);
  }

  readonly #onTimer = (): void => {
    this.#timer = null;
    this.#flushNow();
  };

  #flushNow(): void {
    if (this.#draining !== null || this.#waiting.length === 0) return;
    if (this.#timer !== null) {
      this.#timer();
      this.#timer = null;
    }
    this.#draining = this.#commitBatch().finally(() => {
      this.#draining = null;
      // Whatever arrived while the batch committed has already waited one transaction: commit it now. Checking here,
      // after the batch's callers were resumed, also catches appends they made in the same microtask run.
      this.#flushNow();
    });
  }

  async #commitBatch(): Promise<void> {
    const batch = this.#takeBatch();
    const events = batch.flatMap((w) => w.events);
    this.#stats.flushes++;
    this.#stats.largestBatch = Math.max(this.#stats.largestBatch, events.length);
    try {
      const outcomes = await this.#inner.append(events);
      if (outcomes.length !== events.length) {
        throw new Error(`ledger returned ${outcomes.length} outcomes for ${events.length} events`);
      }
      this.#stats.events += events.length;
      let offset = 0;
      for (const waiter of batch) {
        waiter.resolve(outcomes.slice(offset, offset + waiter.events.length));
        offset += waiter.events.length;
      }
    } catch (error) {
      // The transaction rolled back as a whole: every caller in it learns that its usage was not recorded.
      this.#stats.failedFlushes++;
      for (const waiter of batch) waiter.reject(error);
    }
  }

  /** Whole callers, up to maxBatch events (a single caller larger than that goes alone). */
  #takeBatch(): Waiter[] {
    let count = 0;
    let taken = 0;
    while (taken < this.#waiting.length) {
      const size = this.#waiting[taken]?.events.length ?? 0;
      if (taken > 0 && count + size > this.#maxBatch) break;
      count += size;
      taken++;
    }
    this.#waitingEvents -= count;
    return this.#waiting.splice(0, taken);
  }
}
