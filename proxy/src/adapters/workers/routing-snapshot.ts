/**
 * What the node-health object shares with every isolate: the node list, each node's health and load, its breaker
 * state, and the voices the nodes offer. Plain data, so it crosses the RPC boundary as it is.
 */
import type { NodeConfig, NodeView } from "../../core/routing/balancer.ts";
import type { BreakerState, CircuitBreakers } from "../../core/routing/breaker.ts";
import type { VoiceInfo } from "../../http/deps.ts";

export interface SharedNodeState
  extends Pick<
    NodeView,
    "id" | "url" | "pool" | "up" | "ready" | "draining" | "queueDepth" | "remoteInFlight" | "freeSlots" | "lastReportMs"
  > {
  breaker: { state: BreakerState; openUntilMs: number | null };
}

export interface RoutingSnapshot {
  atMs: number;
  nodes: SharedNodeState[];
  voices: VoiceInfo[];
}

/**
 * A breaker transition seen by one isolate, for all the others: `ejected` (its breaker opened, or a probe failed),
 * `recovered` (a half-open probe succeeded).
 */
export interface BreakerReport {
  nodeId: string;
  event: "ejected" | "recovered";
}

export function describeNodes(nodes: readonly Readonly<NodeView>[], breakers: CircuitBreakers): SharedNodeState[] {
  return nodes.map((n) => {
    const b = breakers.get(n.id);
    return {
      id: n.id,
      url: n.url,
      pool: n.pool,
      up: n.up,
      ready: n.ready,
      draining: n.draining,
      queueDepth: n.queueDepth,
      remoteInFlight: n.remoteInFlight,
      freeSlots: n.freeSlots,
      lastReportMs: n.lastReportMs,
      breaker: { state: b?.state ?? "closed", openUntilMs: b?.openUntilMs ?? null },
    };
  });
}

export const nodeConfigs = (nodes: readonly SharedNodeState[]): NodeConfig[] =>
  nodes.map(({ id, url, pool }) => ({ id, url, pool }));
