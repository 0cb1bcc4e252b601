import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInProcessProxy, stubWavTransport } from "../../testing/stack.ts";

type Proxy = Awaited<ReturnType<typeof createInProcessProxy>>;

/** Issue 14 #8: text with nothing to say is refused before any node is asked, on every route that takes text. */
describe("text made only of control or zero-width characters", () => {
  let proxy: Proxy;
  const transport = stubWavTransport(1000);
  const UNSPEAKABLE = ["\u200b\u200b\u200b", "\u0000\u0007\u001b", "\ufeff\u200d\u2060 \u00ad"];

  beforeAll(async () => {
    proxy = await createInProcessProxy({
      transport,
      jobs: true,
      config: { ipPolicy: { ratePerSecond: 10_000, burst: 10_000 } },
    });
  });
  afterAll(async () => {
    await proxy.close();
  });

  const post = async (key: string, path: string, body: unknown) => {
    const res = await proxy.request(path, {
      method: "POST",
      headers: { "x-api-key": key, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const isJson = res.headers.get("content-type")?.includes("json");
    return {
      status: res.status,
      json: (isJson ? await res.json() : await res.arrayBuffer().then(() => ({}))) as { error?: { code: string } },
    };
  };
  const events = async (customerId: string) =>
    (await proxy.stores.ledger.totals({ customerId, fromMs: 0, toMs: Date.now() + 60_000 }))[0]?.events ?? 0;

  it("is a 400 EMPTY_TEXT on /v1/tts and /v1/audio/speech; no node is asked, nothing is billed", async () => {
    const c = await proxy.newCustomer();
    const served = transport.requests;
    for (const text of UNSPEAKABLE) {
      const tts = await post(c.key, "/v1/tts", { text, voice: 0 });
      expect([tts.status, tts.json.error?.code], JSON.stringify(text)).toEqual([400, "EMPTY_TEXT"]);
      const speech = await post(c.key, "/v1/audio/speech", { model: "m", input: text, voice: "alice" });
      expect([speech.status, speech.json.error?.code], JSON.stringify(text)).toEqual([400, "EMPTY_TEXT"]);
    }
    expect(transport.requests - served).toBe(0);
    expect(await events(c.id)).toBe(0);
    // zero-width characters around real text do not make it unspeakable
    expect((await post(c.key, "/v1/tts", { text: "\u200bhello\u200b", voice: 0 })).status).toBe(200);
  });

  it("is a 400 EMPTY_TEXT for a job item or a job's long text; no job is created", async () => {
    const c = await proxy.newCustomer("batch");
    for (const text of UNSPEAKABLE) {
      const items = await post(c.key, "/v1/jobs", { items: [{ text: "hello" }, { text }] });
      expect([items.status, items.json.error?.code], JSON.stringify(text)).toEqual([400, "EMPTY_TEXT"]);
      const long = await post(c.key, "/v1/jobs", { text: text.repeat(50) });
      expect([long.status, long.json.error?.code], JSON.stringify(text)).toEqual([400, "EMPTY_TEXT"]);
    }
    const list = await proxy.request("/v1/jobs", { headers: { "x-api-key": c.key } });
    expect(((await list.json()) as { jobs: unknown[] }).jobs).toEqual([]);
  });
});
