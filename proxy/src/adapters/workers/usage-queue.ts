/**
 * Usage on the edge: requests send their usage rows to a Queue; the consumer writes them to D1 in batches.
 *
 * Durability point: `append` resolves once `Queue.sendBatch` resolved, i.e. once Cloudflare Queues has persisted the
 * messages; the proxy releases the audio only after that. From then on the row cannot be lost: delivery is
 * at-least-once, the consumer retries failed writes with backoff and, after `max_retries`, the message goes to the
 * dead-letter queue. It cannot be counted twice either: the ledger ignores a request id it already holds, so a
 * redelivered message (or a batch retried after a partial failure) changes nothing.
 */
import type {
  AppendOutcome,
  DailyUsage,
  UsageByDayQuery,
  UsageEvent,
  UsageLedger,
  UsageTotals,
} from "../../store/ports.ts";
import { InvalidUsageEventError, usageEventProblem } from "../../store/validation.ts";

/** Queues accept at most 100 messages per sendBatch. */
const SEND_BATCH_MAX = 100;

/**
 * The ledger requests append through on Workers. Reads (usage, totals) go to the D1 ledger the consumer writes.
 * `inserted` in an outcome means "accepted for the ledger": a request id seen before is dropped by the consumer.
 *
 * @example
 * const ledger = new QueueUsageLedger(env.USAGE_QUEUE, createD1Stores(openD1(env.DB)).ledger);
 * await ledger.append([event]); // resolves once the queue holds the event durably
 */
export class QueueUsageLedger implements UsageLedger {
  constructor(
    private readonly queue: Queue<UsageEvent>,
    private readonly reads: Pick<UsageLedger, "usageByDay" | "totals">,
  ) {}

  async append(events: readonly UsageEvent[]): Promise<AppendOutcome[]> {
    // A malformed event is refused here, so it never reaches the queue and only its caller fails.
    for (const event of events) {
      const problem = usageEventProblem(event);
      if (problem !== null) throw new InvalidUsageEventError(event.requestId, problem);
    }
    const seen = new Set<string>();
    const outcomes = events.map((e) => {
      const first = !seen.has(e.requestId);
      seen.add(e.requestId);
      return { inserted: first };
    });
    const unique = events.filter((_, i) => outcomes[i]?.inserted);
    for (let i = 0; i < unique.length; i += SEND_BATCH_MAX) {
      await this.queue.sendBatch(
        unique.slice(i, i + SEND_BATCH_MAX).map((body) => ({ body, contentType: "json" as const })),
      );
    }
    return outcomes;
  }

  usageByDay(query: UsageByDayQuery): Promise<DailyUsage[]> {
    return this.reads.usageByDay(query);
  }

  totals(query: { customerId?: string; fromMs: number; toMs: number }): Promise<UsageTotals[]> {
    return this.reads.totals(query);
  }
}

export interface ConsumeDeps {
  ledger: Pick<UsageLedger, "append">;
  /** malformed bodies go here at once (retrying cannot fix them); without it they are retried into the DLQ */
  deadLetter?: Queue<unknown>;
  log?: (line: Record<string, unknown>) => void;
}

export interface ConsumeSummary {
  written: number;
  retried: number;
  deadLettered: number;
}

/** Backoff for a message that failed `attempts` times: 10 s, 20 s, 40 s … capped at one hour. */
export const retryDelaySeconds = (attempts: number): number => Math.min(3_600, 10 * 2 ** Math.max(0, attempts - 1));

function isUsageEvent(body: unknown): body is UsageEvent {
  return typeof body === "object" && body !== null && usageEventProblem(body as UsageEvent) === null;
}

/**
 * The Queue consumer: the whole batch in one D1 transaction (the common case); if that fails, each message alone, so
 * one row D1 refuses (say, a foreign key) delays only itself. A message is acked only once its row is committed (or
 * was already there); anything else is retried with backoff.
 */
export async function consumeUsageBatch(batch: MessageBatch<unknown>, deps: ConsumeDeps): Promise<ConsumeSummary> {
  const summary: ConsumeSummary = { written: 0, retried: 0, deadLettered: 0 };
  const valid: Message<UsageEvent>[] = [];
  for (const message of batch.messages) {
    if (isUsageEvent(message.body)) {
      valid.push(message as Message<UsageEvent>);
    } else if (deps.deadLetter) {
      await deps.deadLetter.send({ body: message.body, problem: "not a valid usage event", queue: batch.queue });
      message.ack();
      summary.deadLettered++;
    } else {
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      summary.retried++;
    }
  }
  if (valid.length === 0) return summary;
  try {
    await deps.ledger.append(valid.map((m) => m.body));
    for (const m of valid) m.ack();
    summary.written += valid.length;
    return summary;
  } catch (error) {
    deps.log?.({ level: "warn", msg: "usage batch failed; writing its messages one by one", error: String(error) });
  }
  for (const m of valid) {
    try {
      await deps.ledger.append([m.body]);
      m.ack();
      summary.written++;
    } catch (error) {
      deps.log?.({ level: "error", msg: "usage row not written", request_id: m.body.requestId, error: String(error) });
      m.retry({ delaySeconds: retryDelaySeconds(m.attempts) });
      summary.retried++;
    }
  }
  return summary;
}
