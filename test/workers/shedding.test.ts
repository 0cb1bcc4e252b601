import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createEdgeProxy } from "../../proxy/src/adapters/workers/edge-proxy.ts";
import worker from "../../proxy/src/entry.workers.ts";
import { admin, eventually, isolate, newCustomer, request, self, type Target, tts, usageRowsFor } from "./helpers.ts";

type ErrorBody = { error: { code: string; request_id: string } };
type AdminNode = { id: string; pool: string; live: { up: boolean } | null; breaker: { state: string } | null };

/** The cron trigger, as Cloudflare fires it: a health round on every node in the node-health object. */
async function cron(): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

async function nodeAsSeenBy(target: Target, id: string): Promise<AdminNode | undefined> {
  const { json } = await admin("GET", "/admin/nodes", undefined, target);
  return (json.nodes as AdminNode[]).find((n) => n.id === id);
}

describe("503 shedding when a pool's nodes are down", () => {
  beforeAll(async () => {
    expect((await self(request("/healthz"))).status).toBe(200);
  });

  it("answers 503 NO_CAPACITY with Retry-After, charges nothing, and, once health checks mark the node down, stops trying it", async () => {
    const added = await admin("POST", "/admin/nodes", { url: env.DEAD_NODE_URL, pool: "dead" });
    expect(added.status).toBe(201);
    const nodeId = (added.json.node as { id: string }).id;
    const c = await newCustomer("basic", { dedicated_pool: "dead" });
    await cron(); // the node-health object reloads the node list from D1: every isolate now routes pool "dead" to it

    const refused = await self(tts(c.key));
    expect(refused.status).toBe(503);
    const body = (await refused.json()) as ErrorBody;
    expect(body.error.code).toBe("NO_CAPACITY");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await usageRowsFor([body.error.request_id])).toEqual([]);

    await cron();
    await cron(); // two failed checks in a row: down
    await eventually(
      async () => (await nodeAsSeenBy(self, nodeId))?.live?.up === false,
      10_000,
      "the node marked down",
    );
    const shed = await self(tts(c.key));
    expect(shed.status).toBe(503);
    expect(((await shed.json()) as ErrorBody).error.code).toBe("NO_CAPACITY");

    // The shared pool is unaffected.
    const healthy = await newCustomer();
    expect((await self(tts(healthy.key))).status).toBe(200);
  });

  it("a breaker one isolate opens is open in the others at their next refresh, before they send it anything", async () => {
    // The same dead port under another URL: no health round has seen this node, only the breaker can eject it.
    const added = await admin("POST", "/admin/nodes", { url: `${env.DEAD_NODE_URL}/other`, pool: "dead2" });
    const nodeId = (added.json.node as { id: string }).id;
    const c = await newCustomer("basic", { dedicated_pool: "dead2" });
    await cron(); // the first failed check of the node, not yet down
    const a = isolate(createEdgeProxy(env, { breaker: { consecutiveFailures: 3 } }));
    const b = isolate(createEdgeProxy(env));
    expect((await nodeAsSeenBy(b, nodeId))?.breaker?.state).toBe("closed");

    for (let i = 0; i < 3; i++) expect((await a(tts(c.key))).status).toBe(503);
    expect((await nodeAsSeenBy(a, nodeId))?.breaker?.state).toBe("open");
    // Isolate b never sent this node a request: its breaker opens from a's report, via the node-health object.
    await eventually(
      async () => (await nodeAsSeenBy(b, nodeId))?.breaker?.state === "open",
      10_000,
      "b's breaker to open",
    );
    expect((await nodeAsSeenBy(b, nodeId))?.live?.up).toBe(true);
  });
});
