/**
 * How many batch items each node may take right now: batch work only fills capacity that interactive traffic leaves
 * idle, judged from the node's own /healthz report (queue depth, free slots) and what this proxy sent it since.
 *
 * A node gets no batch work at all unless it is routable (up, ready, not draining, breaker closed) and its report is
 * fresh, and none while anything waits in its queue: a queue means its slots are taken, and interactive work is first
 * in line. Otherwise its batch slots are
 *
 *   min(maxPerNode, freeSlots + B₀ − headroom − max(0, I − I₀)) − B
 *
 * where B and I are the batch and interactive requests this proxy has in flight to it now, and B₀, I₀ the same when
 * the report was taken: the report counted B₀ as busy (they may be returned to batch) and the interactive requests
 * sent since then take slots the report still called free. `headroom` slots always stay free for interactive
 * arrivals, so a new interactive request never queues behind batch work on a node that has spare capacity.
 */
import type { NodeView } from "../core/routing/balancer.ts";

export interface CapacityOptions {
  /** slots of every node that batch work leaves free for interactive requests */
  headroomSlots: number;
  /** most batch items in flight to one node */
  maxPerNode: number;
  /** a report older than this says nothing about the node's load now: no batch work goes there */
  staleAfterMs: number;
}

/** Batch requests in flight per node, and the counts at each node's last report. */
export class BatchInFlight {
  readonly #now = new Map<string, number>();
  readonly #atReport = new Map<string, { reportMs: number; batch: number; interactive: number }>();

  get(nodeId: string): number {
    return this.#now.get(nodeId) ?? 0;
  }

  add(nodeId: string, delta: 1 | -1): void {
    this.#now.set(nodeId, Math.max(0, this.get(nodeId) + delta));
  }

  total(): number {
    let sum = 0;
    for (const v of this.#now.values()) sum += v;
    return sum;
  }

  /** Remembers the in-flight counts when a node's report is first seen (called on every scheduling round). */
  observe(node: Readonly<NodeView>): { batch: number; interactive: number } {
    const batch = this.get(node.id);
    const interactive = Math.max(0, node.localInFlight - batch);
    if (node.lastReportMs === null) return { batch, interactive };
    const seen = this.#atReport.get(node.id);
    if (seen?.reportMs !== node.lastReportMs) {
      const snapshot = { reportMs: node.lastReportMs, batch, interactive };
      this.#atReport.set(node.id, snapshot);
      return snapshot;
    }
    return seen;
  }
}

/** Batch slots of one node now (see the module comment). */
export function batchSlots(
  node: Readonly<NodeView>,
  routable: boolean,
  inFlight: BatchInFlight,
  nowMs: number,
  options: CapacityOptions,
): number {
  const atReport = inFlight.observe(node);
  if (!routable || !node.up || !node.ready || node.draining) return 0;
  if (node.lastReportMs === null || nowMs - node.lastReportMs > options.staleAfterMs) return 0;
  if (node.queueDepth > 0) return 0;
  const batch = inFlight.get(node.id);
  const interactive = Math.max(0, node.localInFlight - batch);
  const newInteractive = Math.max(0, interactive - atReport.interactive);
  const usable = node.freeSlots + atReport.batch - options.headroomSlots - newInteractive;
  return Math.max(0, Math.min(options.maxPerNode, usable) - batch);
}
