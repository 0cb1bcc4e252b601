/**
 * How many batch items each node may take right now: batch work only fills capacity that interactive traffic leaves
 * idle, judged from the node's own /healthz report (queue depth, in flight, free slots) and what this proxy sent it
 * since.
 *
 * A node gets no batch work at all unless it is routable (up, ready, not draining, breaker closed) and its report is
 * fresh, and none while anything waits in its queue: a queue means its slots are taken, and interactive work is first
 * in line there. Otherwise
 *
 *   size        = in_flight + free_slots                      (the node's slots, from its report)
 *   others      = max(0, in_flight − B' − I')                  (work on it that is not this proxy's)
 *   batch slots = min(maxPerNode, size − headroom − Î − Ô) − B
 *
 * where B and I are the batch and interactive requests this proxy has in flight to the node now, B' and I' their
 * highest counts of the last `reportWindowMs` (so a report taken a moment ago is not mistaken for other proxies' work),
 * and Î and Ô the highest I and `others` of the last `interactiveWindowMs`. Batch work cannot be called back once a
 * node runs it, so it leaves room for as much interactive work as the node had lately, plus `headroom` slots for
 * arrivals beyond that: interactive bursts no larger than what was seen find a free slot without waiting behind batch.
 */
import type { NodeView } from "../core/routing/balancer.ts";

export interface CapacityOptions {
  /** slots of every node that batch work leaves free on top of recent interactive demand */
  headroomSlots: number;
  /** most batch items in flight to one node */
  maxPerNode: number;
  /** a report older than this says nothing about the node's load now: no batch work goes there */
  staleAfterMs: number;
  /** how far back interactive demand is remembered (default 10 s) */
  interactiveWindowMs?: number;
  /** how far back this proxy's own counts are taken when reading a report (default 2 s) */
  reportWindowMs?: number;
}

const BUCKETS = 10;

/** The maximum of the values recorded in the last `windowMs` (ten buckets: up to a tenth of the window coarse). */
export class WindowMax {
  readonly #width: number;
  readonly #peaks: { bucket: number; value: number }[] = [];

  constructor(windowMs: number) {
    this.#width = Math.max(1, windowMs / BUCKETS);
  }

  record(value: number, nowMs: number): number {
    const bucket = Math.floor(nowMs / this.#width);
    const last = this.#peaks.at(-1);
    if (last?.bucket === bucket) last.value = Math.max(last.value, value);
    else this.#peaks.push({ bucket, value });
    while ((this.#peaks[0]?.bucket ?? bucket) <= bucket - BUCKETS) this.#peaks.shift();
    let max = 0;
    for (const p of this.#peaks) max = Math.max(max, p.value);
    return max;
  }
}

interface NodeState {
  batch: number;
  interactivePeak: WindowMax;
  othersPeak: WindowMax;
  recentBatch: WindowMax;
  recentInteractive: WindowMax;
}

/** Batch requests in flight per node, and the recent peaks the capacity rule reads. */
export class BatchInFlight {
  readonly #nodes = new Map<string, NodeState>();

  constructor(private readonly windows: { interactiveMs?: number; reportMs?: number } = {}) {}

  /** @internal */
  state(nodeId: string): NodeState {
    let s = this.#nodes.get(nodeId);
    if (!s) {
      const long = this.windows.interactiveMs ?? 10_000;
      const short = this.windows.reportMs ?? 2_000;
      s = {
        batch: 0,
        interactivePeak: new WindowMax(long),
        othersPeak: new WindowMax(long),
        recentBatch: new WindowMax(short),
        recentInteractive: new WindowMax(short),
      };
      this.#nodes.set(nodeId, s);
    }
    return s;
  }

  get(nodeId: string): number {
    return this.#nodes.get(nodeId)?.batch ?? 0;
  }

  add(nodeId: string, delta: 1 | -1): void {
    const s = this.state(nodeId);
    s.batch = Math.max(0, s.batch + delta);
  }

  total(): number {
    let sum = 0;
    for (const s of this.#nodes.values()) sum += s.batch;
    return sum;
  }
}

/** Batch slots of one node now (see the module comment). Also records what it saw, so call it every round. */
export function batchSlots(
  node: Readonly<NodeView>,
  routable: boolean,
  inFlight: BatchInFlight,
  nowMs: number,
  options: CapacityOptions,
): number {
  const s = inFlight.state(node.id);
  const batch = s.batch;
  const interactive = Math.max(0, node.localInFlight - batch);
  const recentBatch = s.recentBatch.record(batch, nowMs);
  const recentInteractive = s.recentInteractive.record(interactive, nowMs);
  const fresh = node.lastReportMs !== null && nowMs - node.lastReportMs <= options.staleAfterMs;
  const others = fresh ? Math.max(0, node.remoteInFlight - recentBatch - recentInteractive) : 0;
  const reserved = s.interactivePeak.record(interactive, nowMs) + s.othersPeak.record(others, nowMs);
  if (!routable || !node.up || !node.ready || node.draining || !fresh || node.queueDepth > 0) return 0;
  const size = node.remoteInFlight + node.freeSlots;
  return Math.max(0, Math.min(options.maxPerNode, size - options.headroomSlots - reserved) - batch);
}
