import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestNode, defaultTestOptions } from "../testing/harness.ts";
import { createMetricsApp, createNodeApp } from "./app.ts";

/** Issue 14 #9: with --metrics-port, the node's metrics are on the internal listener only, not the API port. */
describe("gpu-node metrics on their own internal listener", () => {
  let node: Awaited<ReturnType<typeof createTestNode>>;
  beforeAll(async () => {
    node = await createTestNode();
  });
  afterAll(async () => {
    await node.close();
  });

  it("the API app without serveMetrics answers 404 on /metrics; the metrics app serves them", async () => {
    const api = createNodeApp({
      engine: node.engine,
      manifest: node.files.manifest,
      voices: node.voices,
      text: node.text,
      metrics: node.metrics,
      engineOptions: defaultTestOptions,
      runtime: { executionProviders: ["cpu"], intraOpThreads: 1, interOpThreads: 1, intraOpSpinning: false },
      maxBodyBytes: 16_384,
      serveMetrics: false,
    });
    const hidden = await api.request("/metrics");
    expect(hidden.status).toBe(404);
    expect(await hidden.text()).not.toContain("gpu_node_");
    expect((await api.request("/healthz")).status).toBe(200);

    const internal = await createMetricsApp(node.metrics).request("/metrics");
    expect(internal.status).toBe(200);
    expect(await internal.text()).toContain("gpu_node_");
    expect((await createMetricsApp(node.metrics).request("/synthesize", { method: "POST" })).status).toBe(404);
  });

  it("by default (no --metrics-port) the API app still serves /metrics, bound to loopback by the entry", async () => {
    expect((await node.app.request("/metrics")).status).toBe(200);
  });
});
