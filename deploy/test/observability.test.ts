import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { run, type Started, startUntil } from "./processes.ts";
import { allRules, DEPLOY, writeTestPrometheusConfig } from "./prometheus-config.ts";

/**
 * A real Prometheus (Debian's binary) scrapes a running stack — the proxy's and the gpu-node's own entries (tiny model,
 * random weights) — with deploy/prometheus's scrape config and rules, under a short load; then every dashboard
 * panel's query and every rule's expression is evaluated through Prometheus' HTTP API.
 *
 * No GPU here: the DCGM exporter's series come from a TEST-ONLY static exposition served below (labelled as such
 * in its HELP text); queries over them prove they parse and select the exporter's names and labels, not GPU numbers.
 * `instance:tts_gpu_utilization:percent` reads the node's own nvidia-smi samples, which a CPU machine does not have:
 * it is the one query expected to return nothing here (asserted, so a fake source could not slip in).
 */
const REPO = join(DEPLOY, "..");
const ADMIN_TOKEN = "adm_observability_test_0123456789";
const NO_GPU_HERE = new Set(["instance:tts_gpu_utilization:percent"]);
const FAKE_DCGM = [
  "# HELP DCGM_FI_DEV_GPU_UTIL TEST-ONLY static exposition: no GPU on this machine, this value is made up.",
  "# TYPE DCGM_FI_DEV_GPU_UTIL gauge",
  'DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-test",Hostname="test-host",namespace="indextts",pod="gpu-node-test",container="gpu-node"} 42',
  "",
].join("\n");

interface QueryAnswer {
  status: string;
  error?: string;
  data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
}

describe("observability: Prometheus scrapes the stack; every panel and rule query returns data", () => {
  let work: string;
  let promUrl: string;
  let dcgm: Server;
  let served: string[] = [];
  let proxyProcess: Started;
  let nodeProcess: Started;
  const started: Started[] = [];

  const query = async (expr: string): Promise<QueryAnswer> => {
    const res = await fetch(`${promUrl}/api/v1/query`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ query: expr }),
    });
    return (await res.json()) as QueryAnswer;
  };
  /** Polls until `expr` returns a sample (scrapes and rule evaluations run every second) or the deadline passes. */
  const eventually = async (expr: string, deadlineMs: number): Promise<QueryAnswer> => {
    for (;;) {
      const a = await query(expr);
      if (a.status !== "success" || (a.data?.result.length ?? 0) > 0 || Date.now() > deadlineMs) return a;
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  const freePort = () =>
    new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, "127.0.0.1", () => {
        const { port } = s.address() as AddressInfo;
        s.close(() => resolve(port));
      });
    });

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "observability-"));
    const env = { PATH: process.env.PATH, HOME: work };
    const tsx = join(REPO, "node_modules", ".bin", "tsx");
    // a node that refuses when more than one request waits, so the load below also produces queue_full rejects
    const node = await startUntil(
      tsx,
      [join(REPO, "gpu-node", "src", "entry.node.ts"), "--port", "0", "--intra-op-threads", "1", "--max-batch", "2"],
      {
        cwd: REPO,
        env: { ...env, GPU_NODE_MAX_QUEUE: "1", GPU_NODE_MODEL: join(REPO, "gpu-node", "models", "tiny") },
        ready: /gpu-node listening on (http:\/\/127\.0\.0\.1:\d+)/,
      },
    );
    started.push(node);
    nodeProcess = node;
    const nodeUrl = node.match[1] as string;
    const proxy = await startUntil(tsx, [join(REPO, "proxy", "src", "entry.node.ts")], {
      cwd: REPO,
      env: {
        ...env,
        PORT: "0",
        DATA_DIR: join(work, "data"),
        ADMIN_TOKEN,
        GPU_NODES: nodeUrl,
        IP_RATE_PER_SECOND: "1000",
        IP_BURST: "1000",
      },
      ready: /proxy listening on (http:\/\/127\.0\.0\.1:\d+)/,
    });
    started.push(proxy);
    proxyProcess = proxy;
    const proxyUrl = proxy.match[1] as string;
    dcgm = createServer((_req, res) => res.writeHead(200, { "content-type": "text/plain" }).end(FAKE_DCGM));
    await new Promise<void>((r) => dcgm.listen(0, "127.0.0.1", r));

    const host = (url: string) => new URL(url).host;
    const { configFile } = writeTestPrometheusConfig(
      join(work, "prometheus"),
      {
        proxy: [host(proxyUrl)],
        "gpu-node": [host(nodeUrl)],
        dcgm: [`127.0.0.1:${(dcgm.address() as AddressInfo).port}`],
      },
      ADMIN_TOKEN,
      // what the Prometheus operator adds from the ServiceMonitor in Kubernetes; the autoscaling queries select on it
      { "gpu-node": { namespace: "indextts", pod: "gpu-node-test" } },
    );
    const check = await run("promtool", ["check", "config", configFile]);
    if (check.code !== 0) throw new Error(check.output);
    const port = await freePort();
    mkdirSync(join(work, "tsdb"));
    const prom = await startUntil(
      "prometheus",
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(work, "tsdb")}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { cwd: work, env, ready: /Server is ready to receive web requests/ },
    );
    started.push(prom);
    promUrl = `http://127.0.0.1:${port}`;

    // Every target scraped and up before the load (a 401 from /metrics or a refused connection shows here with
    // Prometheus' own error, instead of as an empty query later).
    const targetsDeadline = Date.now() + 30_000;
    for (;;) {
      const t = (await (await fetch(`${promUrl}/api/v1/targets`)).json()) as {
        data: { activeTargets: { labels: { job: string }; health: string; lastError: string }[] };
      };
      const targets = t.data.activeTargets;
      if (targets.length === 3 && targets.every((x) => x.health === "up")) break;
      // a scrape may fail once on a loaded machine (1 s timeout); a target that stays down fails here with the reason
      if (Date.now() > targetsDeadline) {
        throw new Error(`targets not up: ${JSON.stringify(targets.map((x) => [x.labels.job, x.health, x.lastError]))}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }

    // A short load: synthesis through the proxy (2 at a time), then a burst straight at the node (queue full).
    const key = readFileSync(join(work, "data", "demo-key.txt"), "utf8").trim();
    const synth = (i: number) =>
      fetch(`${proxyUrl}/v1/tts`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ text: `欢迎使用语音合成服务,第${i}句。`, emotion: "happy", voice: 0 }),
      }).then((r) => r.arrayBuffer().then(() => ({ status: r.status, id: r.headers.get("x-request-id") ?? "" })));
    // The proxy's per-route series begins with its first request, and rate() needs an increase between two samples
    // of it: a load that ends before Prometheus' next scrape would leave the rate at 0. So one request, then wait
    // until Prometheus has a sample of its series, then the rest of the load (which increases that sample).
    const answers: { status: number; id: string }[] = [await synth(-1)];
    const sampled = await eventually('proxy_request_seconds_count{route="/v1/tts"}', Date.now() + 30_000);
    expect(sampled.data?.result.length, JSON.stringify(sampled)).toBeGreaterThan(0);
    for (let i = 0; i < 8; i += 2) answers.push(...(await Promise.all([synth(i), synth(i + 1)])));
    served = answers.filter((a) => a.status === 200).map((a) => a.id);
    expect(served.length, JSON.stringify(answers)).toBeGreaterThan(0);
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        fetch(`${nodeUrl}/synthesize`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ text: `队列测试${i}`, emotion: "neutral", speaker_id: 0 }),
        }).then((r) => r.arrayBuffer()),
      ),
    );
    // scraped and evaluated after the load: the request rate's recording rule has samples
    const ready = await eventually("tts:proxy_api_requests:rate1m > 0", Date.now() + 30_000);
    expect(ready.data?.result.length, JSON.stringify(ready)).toBeGreaterThan(0);
  }, 180_000);

  afterAll(async () => {
    for (const s of started.reverse()) await s.stop();
    await new Promise((r) => dcgm?.close(r));
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("scrapes the proxy, the node and the DCGM source with the configured token", async () => {
    const up = await query("up");
    const byJob = Object.fromEntries((up.data?.result ?? []).map((r) => [r.metric.job, r.value[1]]));
    expect(byJob).toEqual({ proxy: "1", "gpu-node": "1", dcgm: "1" });
  });

  it("every dashboard panel's query parses and returns data", async () => {
    const dashboard = JSON.parse(readFileSync(join(DEPLOY, "grafana", "dashboards", "indextts.json"), "utf8")) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const deadline = Date.now() + 30_000;
    const empty: string[] = [];
    for (const panel of dashboard.panels) {
      for (const { expr } of panel.targets) {
        // Grafana's own variables, as it would substitute them for a 1 s scrape interval
        const promql = expr.replaceAll("$__rate_interval", "1m").replaceAll("$__interval", "1s");
        const a = NO_GPU_HERE.has(promql) ? await query(promql) : await eventually(promql, deadline);
        expect(a.status, `${panel.title}: ${promql}: ${a.error}`).toBe("success");
        if ((a.data?.result.length ?? 0) === 0) empty.push(promql);
      }
    }
    expect(empty).toEqual([...NO_GPU_HERE]);
  });

  it("every recording rule returns data and every alert's expression parses over series that exist", async () => {
    const deadline = Date.now() + 30_000;
    for (const rule of allRules()) {
      // an alert's expression is empty unless it fires, and a no-GPU series stays empty: asked once
      const once = rule.alert !== undefined || NO_GPU_HERE.has(rule.record ?? "");
      const a = once ? await query(rule.expr) : await eventually(rule.expr, deadline);
      expect(a.status, `${rule.record ?? rule.alert}: ${a.error}`).toBe("success");
      if (rule.record) {
        const n = a.data?.result.length ?? 0;
        if (NO_GPU_HERE.has(rule.record)) expect(n, rule.record).toBe(0);
        else expect(n, `${rule.record} = ${rule.expr}`).toBeGreaterThan(0);
      } else {
        // An alert's expression returns data only while it fires; what it must not do is select series that do not
        // exist (a misspelt metric or label never fires). Every metric it names has samples.
        const names = rule.expr.match(/\b(?:proxy_|gpu_node_|billing_|DCGM_|up\b|tts:|instance:|pod:)[A-Za-z0-9_:]*/g);
        for (const name of new Set(names ?? [])) {
          const exists = await eventually(`count(${name})`, deadline);
          expect(exists.data?.result.length, `${rule.alert}: ${name} has no samples`).toBeGreaterThan(0);
        }
      }
    }
  });

  it("logs one JSON line per request on the proxy and on the node, joined by the same request id", () => {
    const lines = (p: Started) =>
      p
        .output()
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.msg === "request");
    const proxyLines = lines(proxyProcess);
    const nodeLines = lines(nodeProcess);
    // probes and scrapes are not logged (Prometheus scraped both every second)
    expect(proxyLines.some((l) => l.path === "/metrics" || l.path === "/healthz")).toBe(false);
    for (const id of served) {
      const p = proxyLines.filter((l) => l.request_id === id);
      expect(p, id).toHaveLength(1);
      expect(p[0]).toMatchObject({ status: 200, route: "/v1/tts", customer_id: "cus_demo", currency: "USD" });
      expect(p[0]?.node).toEqual(expect.any(String));
      expect(p[0]?.tokens).toBeGreaterThan(0);
      expect(p[0]?.duration_ms).toBeGreaterThanOrEqual(0);
      const n = nodeLines.filter((l) => l.request_id === id);
      expect(n, id).toHaveLength(1);
      expect(n[0]).toMatchObject({ status: 200, path: "/synthesize" });
      expect(n[0]?.semantic_tokens).toBeGreaterThan(0);
      expect(n[0]?.compute_ms).toBeGreaterThan(0);
    }
    // a refusal is logged with its code: the burst straight at the node met a full queue
    expect(nodeLines.some((l) => l.status === 503 && l.code === "QUEUE_FULL")).toBe(true);
  });

  it("the autoscalers' queries (prometheus-adapter rules, KEDA triggers) return data for the node pods", async () => {
    const adapterMap = parse(readFileSync(join(DEPLOY, "k8s", "monitoring", "prometheus-adapter-rules.yaml"), "utf8"));
    const adapter = parse(adapterMap.data["config.yaml"]) as {
      rules: { seriesQuery: string; metricsQuery: string }[];
      externalRules: { metricsQuery: string }[];
    };
    const deadline = Date.now() + 30_000;
    // as prometheus-adapter expands its templates for GET …/namespaces/indextts/pods/*/<metric>
    for (const rule of adapter.rules) {
      const series = await eventually(rule.seriesQuery, deadline);
      expect(series.data?.result.length, rule.seriesQuery).toBeGreaterThan(0);
      const name = (series.data?.result[0]?.metric.__name__ ?? "") as string;
      const q = rule.metricsQuery
        .replaceAll("<<.Series>>", name)
        .replaceAll("<<.LabelMatchers>>", 'namespace="indextts",pod=~"gpu-node-test"')
        .replaceAll("<<.GroupBy>>", "pod");
      const a = await eventually(q, deadline);
      expect(a.data?.result[0]?.metric.pod, q).toBe("gpu-node-test");
    }
    for (const rule of adapter.externalRules) {
      expect((await eventually(rule.metricsQuery, deadline)).data?.result.length, rule.metricsQuery).toBe(1);
    }
    const scaled = parse(readFileSync(join(DEPLOY, "k8s", "overlays", "gpu-keda", "scaledobject.yaml"), "utf8"));
    for (const trigger of scaled.spec.triggers as { metadata: { query: string } }[]) {
      const a = await eventually(trigger.metadata.query, deadline);
      expect(a.data?.result.length, trigger.metadata.query).toBe(1);
    }
  });
});
