import { describe, expect, it } from "vitest";
import { spawnService } from "../../proxy/src/testing/stack.ts";

/** Issue 14 #10: SIGTERM drains the gpu-node — the request in flight is answered, new work refused, then exit 0. */
describe("the gpu-node's SIGTERM drain (the entry, spawned, tiny model)", () => {
  it("answers the request in flight with its audio, refuses new ones, exits 0", async () => {
    const node = await spawnService(
      "gpu-node/src/entry.node.ts",
      { GPU_NODE_PORT: "0" },
      /listening on (http:\/\/\S+)/,
    );
    const exited = new Promise<number | null>((resolve) => node.child.once("exit", (code) => resolve(code)));
    try {
      const synth = (text: string) =>
        fetch(`${node.url}/synthesize`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ text, speaker_id: 0, emotion: "happy" }),
        });
      const inFlight = synth("A sentence long enough to still be decoding when the node is told to stop.");
      // in flight: the node reports it (polling, not a guessed delay)
      const end = Date.now() + 60_000;
      for (;;) {
        const health = (await (await fetch(`${node.url}/healthz`)).json()) as { in_flight: number };
        if (health.in_flight > 0 || Date.now() > end) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      node.child.kill("SIGTERM");
      const answered = await inFlight;
      expect(answered.status).toBe(200);
      expect(answered.headers.get("content-type")).toMatch(/audio\/wav/);
      expect((await answered.arrayBuffer()).byteLength).toBeGreaterThan(44);
      const late = await synth("too late").then(
        (r) => r.status,
        () => "refused",
      );
      expect([503, "refused"]).toContain(late);
      expect(await exited).toBe(0);
    } finally {
      node.child.kill("SIGKILL");
    }
  });
});
