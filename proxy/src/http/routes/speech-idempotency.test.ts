import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInProcessProxy, stubWavTransport } from "../../testing/stack.ts";

type Proxy = Awaited<ReturnType<typeof createInProcessProxy>>;

/** Idempotency-Key on the synthesis endpoints: the same rules as on POST /v1/jobs (../idempotency.ts). */
describe("Idempotency-Key on POST /v1/tts and /v1/audio/speech", () => {
  let proxy: Proxy;
  const transport = stubWavTransport(1000);

  beforeAll(async () => {
    proxy = await createInProcessProxy({ transport, config: { ipPolicy: { ratePerSecond: 10_000, burst: 10_000 } } });
  });
  afterAll(async () => {
    await proxy.close();
  });

  const post = (key: string, path: string, idempotencyKey: string, body: unknown) =>
    proxy.request(path, {
      method: "POST",
      headers: { "x-api-key": key, "content-type": "application/json", "idempotency-key": idempotencyKey },
      body: JSON.stringify(body),
    });
  const usage = async (customerId: string) =>
    (await proxy.stores.ledger.totals({ customerId, fromMs: 0, toMs: Date.now() + 60_000 }))[0]?.events ?? 0;

  it("replays the same request however it names the voice; refuses another with 422 and charges once", async () => {
    const c = await proxy.newCustomer();
    const served = transport.requests;
    const first = await post(c.key, "/v1/tts", "k-1", { text: "hello", voice: "alice" });
    expect(first.status).toBe(200);
    const audio = new Uint8Array(await first.arrayBuffer());
    // the voice by id, the default speed spelled out: the same request
    const again = await post(c.key, "/v1/tts", "k-1", { text: "hello", voice: 0, speed: 1 });
    expect([again.status, again.headers.get("idempotent-replayed")]).toEqual([200, "true"]);
    expect(new Uint8Array(await again.arrayBuffer())).toEqual(audio);
    expect(again.headers.get("x-request-id")).toBe(first.headers.get("x-request-id"));
    // the OpenAI-compatible spelling of it too (asking for WAV, the native default; OpenAI's default is MP3)
    const openai = await post(c.key, "/v1/audio/speech", "k-1", {
      model: "m",
      input: "hello",
      voice: "ALICE",
      response_format: "wav",
    });
    expect([openai.status, openai.headers.get("idempotent-replayed")]).toEqual([200, "true"]);
    await openai.arrayBuffer();
    expect(transport.requests - served).toBe(1);

    for (const [path, body] of [
      ["/v1/tts", { text: "hello", voice: 0, speed: 1.5 }],
      ["/v1/tts", { text: "goodbye" }],
      ["/v1/audio/speech", { model: "m", input: "hello", voice: "alice", instructions: "sound happy" }],
    ] as const) {
      const res = await post(c.key, path, "k-1", body);
      const json = (await res.json()) as { error: { code: string; request_id: string } };
      expect([res.status, json.error.code], JSON.stringify(body)).toEqual([422, "IDEMPOTENCY_KEY_REUSED"]);
      expect(json.error.request_id).toBe(res.headers.get("x-request-id"));
    }
    expect(await usage(c.id)).toBe(1);
    expect(transport.requests - served).toBe(1);
  });

  it("keeps customers apart, and refuses a malformed key with 400", async () => {
    const a = await proxy.newCustomer();
    const b = await proxy.newCustomer();
    expect((await post(a.key, "/v1/tts", "shared-key", { text: "one" })).status).toBe(200);
    // another customer's same key is their own request
    expect((await post(b.key, "/v1/tts", "shared-key", { text: "two" })).status).toBe(200);
    const bad = await post(a.key, "/v1/tts", "has space", { text: "one" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("INVALID_REQUEST");
    expect([await usage(a.id), await usage(b.id)]).toEqual([1, 1]);
  });
});
