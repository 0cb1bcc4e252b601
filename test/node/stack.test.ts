import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { measureWav } from "../../audio/wav.ts";
import { createTestNode, listen } from "../../gpu-node/src/testing/harness.ts";
import { startProxy } from "../../proxy/src/testing/stack.ts";

describe("the stack: proxy → real gpu-node (tiny model, random weights) over HTTP", () => {
  let node: Awaited<ReturnType<typeof createTestNode>>;
  let nodeServer: Awaited<ReturnType<typeof listen>>;
  let proxy: Awaited<ReturnType<typeof startProxy>>;

  beforeAll(async () => {
    node = await createTestNode({ maxBatch: 8 });
    nodeServer = await listen(node.app.fetch);
    const info = (await (await fetch(`${nodeServer.url}/info`)).json()) as {
      voices: { id: number; name: string; description: string }[];
    };
    proxy = await startProxy([nodeServer.url], { voices: info.voices });
  });
  afterAll(async () => {
    await proxy.close();
    await nodeServer.close();
    await node.close();
  });

  it("synthesises the article's payload and bills the audio the node really produced", async () => {
    const c = await proxy.newCustomer();
    const res = await fetch(`${proxy.url}/v1/tts`, {
      method: "POST",
      headers: { authorization: `Bearer ${c.key}`, "content-type": "application/json" },
      body: JSON.stringify({
        text: "欢迎使用IndexTTS2语音合成服务,支持情感调节和多音色选择。",
        emotion: "happy",
        voice: 0,
        seed: 3,
      }),
    });
    expect(res.status).toBe(200);
    // the tiny model has random weights, and the customer is told so
    expect(res.headers.get("x-model-random-weights")).toBe("true");
    const measured = measureWav(new Uint8Array(await res.arrayBuffer()));
    if (!measured.ok) throw new Error(measured.reason);
    expect(Number(res.headers.get("x-audio-duration-ms"))).toBe(Math.round(measured.wav.durationMs));
    // 1.72 mel frames × 256 samples per semantic code at 22,050 Hz ≈ 1/50 s: tokens ≈ semantic codes
    const tokens = Number(res.headers.get("x-tokens"));
    expect(tokens).toBe(Math.round((measured.wav.durationMs / 1000) * 50));
    const totals = await proxy.stores.ledger.totals({ customerId: c.id, fromMs: 0, toMs: Date.now() + 1000 });
    expect(totals[0]).toMatchObject({ events: 1, tokens });
  });
});
