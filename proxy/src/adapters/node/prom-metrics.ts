import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { NodeTable } from "../../core/routing/balancer.ts";
import type { CircuitBreakers } from "../../core/routing/breaker.ts";
import type { ProxyMetrics } from "../../http/deps.ts";

const BREAKER_STATES = ["closed", "open", "half_open"] as const;

/** The proxy's Prometheus metrics (prom-client), including every node's breaker state and load. */
export function createPromMetrics(breakers: CircuitBreakers, nodes: NodeTable): ProxyMetrics {
  const registry = new Registry();
  const registers = [registry];
  const requests = new Histogram({
    name: "proxy_request_seconds",
    help: "Proxy requests by route and status",
    labelNames: ["route", "status"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const limited = new Counter({
    name: "proxy_rate_limited_total",
    help: "Requests refused with 429, by scope",
    labelNames: ["scope"],
    registers,
  });
  const tokens = new Counter({ name: "proxy_metered_tokens_total", help: "Tokens metered", registers });
  const amount = new Counter({
    name: "proxy_metered_amount_micros_total",
    help: "Amount billed in micro-units",
    labelNames: ["currency"],
    registers,
  });
  new Gauge({
    name: "proxy_node_breaker_state",
    help: "1 for the breaker's current state of each node",
    labelNames: ["node", "pool", "state"],
    registers,
    collect() {
      this.reset();
      for (const b of breakers.snapshot()) {
        for (const s of BREAKER_STATES) this.set({ node: b.nodeId, pool: b.pool, state: s }, b.state === s ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: "proxy_node_ejections_total",
    help: "Breaker ejections per node since start",
    labelNames: ["node"],
    registers,
    collect() {
      for (const b of breakers.snapshot()) this.set({ node: b.nodeId }, b.totalEjections);
    },
  });
  new Gauge({
    name: "proxy_node_outstanding",
    help: "Requests in flight from this proxy plus the node's reported queue depth",
    labelNames: ["node"],
    registers,
    collect() {
      for (const n of nodes.list()) this.set({ node: n.id }, n.localInFlight + n.queueDepth);
    },
  });
  return {
    request: (route, status, seconds) => requests.observe({ route, status: String(status) }, seconds),
    rateLimited: (scope) => limited.inc({ scope }),
    metered: (t, micros, currency) => {
      tokens.inc(t);
      amount.inc({ currency }, micros);
    },
    render: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  };
}
