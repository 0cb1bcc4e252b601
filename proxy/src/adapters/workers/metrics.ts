import type { NodeTable } from "../../core/routing/balancer.ts";
import type { CircuitBreakers } from "../../core/routing/breaker.ts";
import type { ProxyMetrics } from "../../http/deps.ts";

const BREAKER_STATES = ["closed", "open", "half_open"] as const;
const esc = (v: string) => v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");

/**
 * Metrics of one isolate in the Prometheus text format, without prom-client (it needs Node). On Workers an isolate
 * is one of many, so `/metrics` shows that isolate only: counters say what it saw since it started (labelled with
 * its id), which suits ad-hoc checks; fleet-wide numbers belong to the ledger (usage) and the logs.
 */
export function createIsolateMetrics(breakers: CircuitBreakers, nodes: NodeTable): ProxyMetrics {
  const isolate = crypto.randomUUID().slice(0, 8);
  const requests = new Map<string, { count: number; seconds: number }>();
  const limited = new Map<string, number>();
  const amounts = new Map<string, number>();
  let tokens = 0;
  const bump = (m: Map<string, number>, k: string, by = 1) => m.set(k, (m.get(k) ?? 0) + by);
  return {
    request(route, status, seconds) {
      const key = `route="${esc(route)}",status="${status}"`;
      const r = requests.get(key) ?? { count: 0, seconds: 0 };
      r.count++;
      r.seconds += seconds;
      requests.set(key, r);
    },
    rateLimited: (scope) => bump(limited, scope),
    metered(t, amountMicros, currency) {
      tokens += t;
      bump(amounts, currency, amountMicros);
    },
    async render() {
      const at = `isolate="${isolate}"`;
      const lines = ["# TYPE proxy_requests_total counter", "# TYPE proxy_request_seconds_sum counter"];
      for (const [k, r] of requests) {
        lines.push(`proxy_requests_total{${at},${k}} ${r.count}`, `proxy_request_seconds_sum{${at},${k}} ${r.seconds}`);
      }
      lines.push("# TYPE proxy_rate_limited_total counter");
      for (const [scope, n] of limited) lines.push(`proxy_rate_limited_total{${at},scope="${scope}"} ${n}`);
      lines.push("# TYPE proxy_metered_tokens_total counter", `proxy_metered_tokens_total{${at}} ${tokens}`);
      lines.push("# TYPE proxy_metered_amount_micros_total counter");
      for (const [c, n] of amounts) lines.push(`proxy_metered_amount_micros_total{${at},currency="${esc(c)}"} ${n}`);
      lines.push("# TYPE proxy_node_breaker_state gauge", "# TYPE proxy_node_in_flight gauge");
      for (const b of breakers.snapshot()) {
        for (const s of BREAKER_STATES) {
          lines.push(`proxy_node_breaker_state{${at},node="${esc(b.nodeId)}",state="${s}"} ${b.state === s ? 1 : 0}`);
        }
      }
      for (const n of nodes.list()) lines.push(`proxy_node_in_flight{${at},node="${esc(n.id)}"} ${n.localInFlight}`);
      return { contentType: "text/plain; version=0.0.4; charset=utf-8", body: `${lines.join("\n")}\n` };
    },
  };
}
