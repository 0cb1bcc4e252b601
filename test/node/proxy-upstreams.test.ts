import { describe, expect, it } from "vitest";
import { measureWav } from "../../audio/wav.ts";
import { HealthChecker, timerScheduler } from "../../proxy/src/core/routing/health.ts";
import { startProxy, startStubNode, startStubOpenAiServer } from "../../proxy/src/testing/stack.ts";
import { openAiAdapter } from "../../proxy/src/upstream/adapters.ts";
import { ARTICLE, billed, GENEROUS_IP, putPlan, tts } from "./proxy-helpers.ts";

describe("upstream adapters", () => {
  it("an OpenAI-compatible speech server: its request shape, its streamed WAV measured, sized and billed", async () => {
    const server = await startStubOpenAiServer(1500);
    const voices = ["alloy", "nova"];
    const proxy = await startProxy([server.url], {
      config: GENEROUS_IP,
      adapter: openAiAdapter("tts-1-hd", voices),
      voices: voices.map((name, id) => ({ id, name, description: "openai" })),
    });
    try {
      await putPlan(proxy, "basic");
      const c = await proxy.newCustomer();
      const r = await tts(proxy, c.key, { text: "Hello there", voice: "nova", emotion: "sad", speed: 1.25 });
      expect(r.status).toBe(200);
      expect(server.state.lastBody).toEqual({
        model: "tts-1-hd",
        input: "Hello there",
        voice: "nova",
        speed: 1.25,
        response_format: "wav",
        instructions: "Speak in a sad tone.",
      });
      // The server streamed sizes it did not know (0xFFFFFFFF); the customer gets real ones.
      const measured = measureWav(r.bytes);
      if (!measured.ok) throw new Error(measured.reason);
      expect([measured.wav.streamed, measured.wav.durationMs]).toEqual([false, 1500]);
      expect(r.headers.get("x-tokens")).toBe("75");
      expect(await billed(proxy, c.id)).toMatchObject({ events: 1, tokens: 75 });
    } finally {
      await proxy.close();
      await server.close();
    }
  });
});

describe("deadlines and retries", () => {
  it("a node slower than the request deadline gets 504 UPSTREAM_TIMEOUT at the deadline, and no charge", async () => {
    // The node would answer after 30 s: an answer well before that came from the proxy's own deadline (an upper
    // bound far from the deadline, so a loaded machine does not fail it).
    const slow = await startStubNode(1000, 30_000);
    const proxy = await startProxy([slow.url], { config: { ...GENEROUS_IP, requestTimeoutMs: 400 } });
    try {
      await putPlan(proxy, "basic");
      const c = await proxy.newCustomer();
      const started = Date.now();
      const r = await tts(proxy, c.key);
      const took = Date.now() - started;
      expect([r.status, r.json?.error.code]).toEqual([504, "UPSTREAM_TIMEOUT"]);
      expect(took).toBeGreaterThanOrEqual(380);
      expect(took).toBeLessThan(15_000);
      // the node was told the deadline too, so it can drop the work
      expect((slow.state.lastBody as { deadline_ms: number }).deadline_ms).toBeLessThanOrEqual(400);
      expect((await billed(proxy, c.id)).events).toBe(0);
    } finally {
      await proxy.close();
      await slow.close();
    }
  });

  it("a node that dies after its first response byte is not retried elsewhere (it may have done the work): 502", async () => {
    const dying = await startStubNode(1000);
    const healthy = await startStubNode(1000);
    dying.state.behaviour = "truncate";
    const proxy = await startProxy([dying.url, healthy.url], { config: GENEROUS_IP });
    try {
      await putPlan(proxy, "basic");
      const c = await proxy.newCustomer();
      // Both nodes are equally idle, so the first choice is random: drain the healthy one until the dying one is hit.
      proxy.nodes.setDraining("node1", true);
      const r = await tts(proxy, c.key);
      expect([r.status, r.json?.error.code]).toEqual([502, "UPSTREAM_FAILED"]);
      proxy.nodes.setDraining("node1", false);
      expect(dying.state.served).toBe(1);
      expect(healthy.state.served).toBe(0);
      expect((await billed(proxy, c.id)).events).toBe(0);
    } finally {
      await proxy.close();
      await dying.close();
      await healthy.close();
    }
  });

  it("a refused connection is retried once on another node: the client never sees the dead node", async () => {
    const gone = await startStubNode();
    const goneUrl = gone.url;
    await gone.close();
    const healthy = await startStubNode(1000);
    const proxy = await startProxy([goneUrl, healthy.url], {
      config: GENEROUS_IP,
    });
    try {
      await putPlan(proxy, "basic");
      const c = await proxy.newCustomer();
      // the first choice between two idle nodes is random: send until the dead node has been tried (its breaker saw
      // the failure, visible on the admin API), every answer a 200 served by the healthy node
      const deadFailures = async () => {
        const listed = (await proxy.admin("GET", "/admin/nodes")).json.nodes as {
          id: string;
          breaker: { totalFailures: number; state: string } | null;
        }[];
        return listed.find((n) => n.id === "node0")?.breaker?.totalFailures ?? 0;
      };
      let sent = 0;
      while (sent < 6 || ((await deadFailures()) === 0 && sent < 60)) {
        expect((await tts(proxy, c.key, ARTICLE)).status).toBe(200);
        sent++;
      }
      expect(healthy.state.served).toBe(sent);
      expect(await deadFailures()).toBeGreaterThan(0);
    } finally {
      await proxy.close();
      await healthy.close();
    }
  });
});

describe("active health checks over HTTP", () => {
  it("the queue depth nodes report steers new requests; a node failing /healthz is taken out, then back", async () => {
    const busy = await startStubNode(1000);
    const idle = await startStubNode(1000);
    const proxy = await startProxy([busy.url, idle.url], { config: GENEROUS_IP });
    const health = new HealthChecker({
      table: proxy.nodes,
      breakers: proxy.breakers,
      fetch: (url, init) => fetch(url, init),
      scheduler: timerScheduler,
      now: Date.now,
      unhealthyThreshold: 2,
    });
    try {
      await putPlan(proxy, "basic");
      const c = await proxy.newCustomer();
      busy.state.queueDepth = 40; // work other proxies gave it
      await health.checkAll();
      expect(proxy.nodes.get("node0")?.queueDepth).toBe(40);
      for (let i = 0; i < 20; i++) expect((await tts(proxy, c.key)).status).toBe(200);
      expect([busy.state.served, idle.state.served]).toEqual([0, 20]);

      busy.state.queueDepth = 0;
      idle.state.healthy = false;
      await health.checkAll();
      await health.checkAll();
      expect(proxy.nodes.get("node1")?.up).toBe(false);
      for (let i = 0; i < 10; i++) expect((await tts(proxy, c.key)).status).toBe(200);
      expect([busy.state.served, idle.state.served]).toEqual([10, 20]);

      idle.state.healthy = true;
      await health.checkAll();
      expect(proxy.nodes.get("node1")?.up).toBe(true);
      const health2 = (await (await fetch(`${proxy.url}/healthz`)).json()) as { routable_nodes: number };
      expect(health2.routable_nodes).toBe(2);
    } finally {
      health.stop();
      await proxy.close();
      await busy.close();
      await idle.close();
    }
  });
});
