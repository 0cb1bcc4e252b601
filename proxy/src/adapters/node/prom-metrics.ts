import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { NodeTable } from "../../core/routing/balancer.ts";
import type { CircuitBreakers } from "../../core/routing/breaker.ts";
import type { ProxyMetrics } from "../../http/deps.ts";
import { JOB_ITEM_METRIC_STATES, JOB_STATUSES, type JobItemOutcome } from "../../jobs/metrics.ts";

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
  // The batch queue: state at scrape time (set by the /metrics route), outcomes as they are stored.
  const jobs = new Gauge({ name: "proxy_jobs", help: "Batch jobs by status", labelNames: ["state"], registers });
  const jobItems = new Gauge({
    name: "proxy_job_items",
    help: "Batch job items by state (running includes finishing; failed excludes dead_lettered)",
    labelNames: ["state"],
    registers,
  });
  const processed = new Counter({
    name: "proxy_job_items_processed_total",
    help: "Batch items that reached a final state, by outcome",
    labelNames: ["outcome"],
    registers,
  });
  const retried = new Counter({
    name: "proxy_job_item_retries_total",
    help: "Failed attempts of batch items queued again with backoff",
    registers,
  });
  const charged = new Counter({
    name: "proxy_job_items_charged_total",
    help: "Batch items metered (each once, durable before done)",
    registers,
  });
  const chargedTokens = new Counter({
    name: "proxy_job_charged_tokens_total",
    help: "Tokens metered for batch items",
    registers,
  });
  const FINAL: readonly JobItemOutcome[] = ["done", "failed", "dead_lettered", "cancelled"];
  for (const outcome of FINAL) processed.inc({ outcome }, 0);
  return {
    jobItem: (outcome, metered, count = 1) => {
      if (outcome === "retried") retried.inc(count);
      else processed.inc({ outcome }, count);
      if (metered) {
        charged.inc(count);
        chargedTokens.inc(metered.tokens);
      }
    },
    jobStates: (counts) => {
      for (const state of JOB_STATUSES) jobs.set({ state }, counts.jobs[state]);
      for (const state of JOB_ITEM_METRIC_STATES) jobItems.set({ state }, counts.items[state]);
    },
    request: (route, status, seconds) => requests.observe({ route, status: String(status) }, seconds),
    rateLimited: (scope) => limited.inc({ scope }),
    metered: (t, micros, currency) => {
      tokens.inc(t);
      amount.inc({ currency }, micros);
    },
    render: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  };
}
