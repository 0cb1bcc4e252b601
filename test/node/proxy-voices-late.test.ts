import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { listen, spawnService, startStubNode } from "../../proxy/src/testing/stack.ts";

/**
 * A proxy started before its GPU node can say which voices it has (npm start, a Deployment rolled before its nodes)
 * learns them as soon as a node answers, not at the next 30 s refresh: until then every request is UNKNOWN_VOICE.
 */
describe("the Node proxy learns the voices of a node that comes up after it", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "proxy-voices-late-"));
  const cleanups: (() => Promise<void> | void)[] = [() => rmSync(dataDir, { recursive: true, force: true })];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it("a voice list that was empty at start is filled within seconds of the node's first /info", async () => {
    const stub = await startStubNode(500);
    cleanups.push(() => stub.close());
    let nodeUp = false;
    // The node's address answers 503 until it is "up"; then it is the stub node.
    const front = await listen(async (req: Request) => {
      if (!nodeUp) return new Response(JSON.stringify({ error: { code: "STARTING" } }), { status: 503 });
      const url = new URL(req.url);
      return fetch(`${stub.url}${url.pathname}${url.search}`, {
        method: req.method,
        headers: req.headers,
        ...(req.method === "GET" || req.method === "HEAD" ? {} : { body: await req.arrayBuffer() }),
      });
    });
    cleanups.push(() => front.close());
    const proxy = await spawnService(
      "proxy/src/entry.node.ts",
      { PORT: "0", DATA_DIR: dataDir, ADMIN_TOKEN: "test-admin-token-0123456789", GPU_NODES: front.url },
      /proxy listening on (http:\/\/[^\s]+)/,
    );
    cleanups.push(() => {
      proxy.child.kill("SIGKILL");
    });
    const key = readFileSync(join(dataDir, "demo-key.txt"), "utf8").trim();
    const voices = async () => {
      const r = await fetch(`${proxy.url}/v1/voices`, { headers: { authorization: `Bearer ${key}` } });
      return ((await r.json()) as { voices?: { name: string }[] }).voices ?? [];
    };
    expect(await voices()).toEqual([]);
    nodeUp = true;
    const upAt = Date.now();
    // Polled, not slept: done as soon as the proxy has them. The bound (15 s) is half the old 30 s refresh period.
    let names: string[] = [];
    while (Date.now() - upAt < 15_000) {
      names = (await voices()).map((v) => v.name);
      if (names.length > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(names).toEqual(["alice"]);
  }, 60_000);
});
