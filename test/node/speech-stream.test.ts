/**
 * Streamed answers (stream_format "audio" and "sse") through the proxy over HTTP: audio leaves before the last
 * piece is made (proved by ordering: the node is not allowed to make the later pieces until the client holds the
 * first audio), each piece's usage row is durable before its bytes, and a client that leaves is charged for what
 * was released to it and nothing after.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { measureDuration } from "../../audio/duration.ts";
import { createMemoryStores } from "../../proxy/src/store/memory/index.ts";
import type { UsageEvent } from "../../proxy/src/store/ports.ts";
import { startProxy, startStubNode } from "../../proxy/src/testing/stack.ts";
import { addPrice, GENEROUS_IP, putPlan } from "./proxy-helpers.ts";

const AUDIO_MS = 1000;
/** four long sentences: four pieces (at most 300 characters each), and a stream cuts the first again at a clause */
const FOUR = Array.from(
  { length: 4 },
  (_, i) =>
    `Sentence number ${i + 1} is long enough to be a piece of its own, with a clause here, ` +
    `and it goes on for a while longer so that two of them never fit together in one piece of three hundred.`,
).join(" ");

describe("streamed speech", () => {
  let node: Awaited<ReturnType<typeof startStubNode>>;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let customer: { id: string; key: string };
  let client: OpenAI;
  /** rows as the store committed them */
  const committed: UsageEvent[] = [];

  beforeAll(async () => {
    node = await startStubNode(AUDIO_MS);
    const stores = createMemoryStores();
    const append = stores.ledger.append.bind(stores.ledger);
    stores.ledger.append = async (events) => {
      const outcomes = await append(events);
      committed.push(...events.filter((_, i) => outcomes[i]?.inserted));
      return outcomes;
    };
    proxy = await startProxy([node.url], { config: GENEROUS_IP, stores });
    await putPlan(proxy, "stream-test");
    await addPrice(proxy, "stream-test", { unit_price_micros_per_1k_tokens: 1000 });
    customer = await proxy.newCustomer("stream-test");
    client = new OpenAI({ apiKey: customer.key, baseURL: `${proxy.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    node.state.gate = null;
    await proxy.close();
    await node.close();
  });

  const rowsOf = (requestId: string) =>
    committed.filter((e) => e.requestId === requestId || e.requestId.startsWith(`${requestId}.`));

  it("the first audio reaches the client before the node is let make the last piece (openai client, mp3)", async () => {
    const events: string[] = [];
    let firstChunk!: () => void;
    const clientHasAudio = new Promise<void>((r) => {
      firstChunk = r;
    });
    let arrived = 0;
    node.state.gate = async () => {
      const n = ++arrived;
      // the first piece runs at once; every later one only once the client holds audio
      if (n !== 1) await clientHasAudio;
      events.push(`node made piece ${n}`);
    };
    const served = node.state.served;
    const res = await client.audio.speech.create({
      model: "tts-1",
      voice: "alloy",
      input: FOUR,
      response_format: "mp3",
      stream_format: "audio",
    });
    expect(res.headers.get("x-streamed")).toBe("true");
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const chunks: Uint8Array[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (chunks.length === 0) {
        events.push("client got audio");
        firstChunk();
      }
      chunks.push(value);
    }
    node.state.gate = null;
    const pieces = node.state.served - served;
    expect(pieces).toBe(5);
    expect(events.indexOf("client got audio")).toBeLessThan(events.indexOf(`node made piece ${pieces}`));
    expect(events.indexOf("client got audio")).toBeLessThan(events.indexOf("node made piece 2"));
    expect(events[0]).toBe("node made piece 1");

    const bytes = Buffer.concat(chunks);
    const expectedMs = 5 * AUDIO_MS + 4 * 200;
    const measured = await measureDuration("mp3", new Uint8Array(bytes), 22050);
    expect(measured.ok).toBe(true);
    if (measured.ok) expect(Math.abs(measured.durationMs - expectedMs)).toBeLessThan(160);
    const rows = rowsOf(res.headers.get("x-request-id") ?? "");
    expect(rows).toHaveLength(5);
    expect(rows.reduce((n, r) => n + r.audioMs, 0)).toBe(expectedMs);
    expect(rows.reduce((n, r) => n + r.tokens, 0)).toBe(290);
  });

  it("sse: one speech.audio.delta per piece as it is made, then speech.audio.done with the usage", async () => {
    const res = await client.audio.speech.create({
      model: "gpt-4o-mini-tts",
      voice: "coral",
      input: FOUR,
      response_format: "wav",
      stream_format: "sse",
    });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = (await res.text())
      .split("\n\n")
      .filter((e) => e.startsWith("data: "))
      .map((e) => JSON.parse(e.slice(6)) as { type: string; audio?: string; usage?: Record<string, number> });
    const deltas = events.filter((e) => e.type === "speech.audio.delta");
    expect(deltas).toHaveLength(5);
    const wav = Buffer.concat(deltas.map((d) => Buffer.from(d.audio ?? "", "base64")));
    // a streamed WAV's sizes are "unknown": its duration is what follows the header
    const measured = await measureDuration("wav", new Uint8Array(wav), 22050);
    expect(measured).toMatchObject({ ok: true, durationMs: 5800 });
    expect(events.at(-1)).toEqual({
      type: "speech.audio.done",
      // the spaces at the four cuts are not spoken
      usage: { input_tokens: [...FOUR].length - 4, output_tokens: 290, total_tokens: [...FOUR].length - 4 + 290 },
    });
  });

  it("a client that leaves after the first piece is charged for what was released to it, nothing after", async () => {
    // Pieces after the first wait at the node until the proxy calls them off (it aborts them when the client goes).
    let calledOff = 0;
    let allCalledOff!: () => void;
    const whenCalledOff = new Promise<void>((r) => {
      allCalledOff = r;
    });
    let arrived = 0;
    node.state.gate = async (_body, signal) => {
      if (++arrived === 1) return;
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
      // the window keeps two pieces in flight after the first
      if (++calledOff === 2) allCalledOff();
    };
    const abort = new AbortController();
    const res = await fetch(`${proxy.url}/v1/audio/speech`, {
      method: "POST",
      headers: { authorization: `Bearer ${customer.key}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: "tts-1",
        voice: "alloy",
        input: FOUR,
        response_format: "pcm",
        stream_format: "audio",
      }),
      signal: abort.signal,
    });
    const requestId = res.headers.get("x-request-id") ?? "";
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const { value } = await reader.read();
    expect(value?.byteLength).toBeGreaterThan(0);
    abort.abort();
    await reader.cancel().catch(() => {});
    await whenCalledOff;
    node.state.gate = null;
    const rows = rowsOf(requestId);
    expect(rows.map((r) => r.requestId)).toEqual([`${requestId}.0`]);
    expect(rows[0]?.audioMs).toBe(AUDIO_MS);
  });

  it("the native /v1/tts streams too: FLAC piece by piece, its STREAMINFO length 'unknown', its frames the rows'", async () => {
    const served = node.state.served;
    const res = await fetch(`${proxy.url}/v1/tts`, {
      method: "POST",
      headers: { authorization: `Bearer ${customer.key}`, "content-type": "application/json" },
      body: JSON.stringify({ text: FOUR, voice: 0, response_format: "flac", stream_format: "audio" }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("audio/flac");
    const bytes = new Uint8Array(await res.arrayBuffer());
    const pieces = node.state.served - served;
    const rows = rowsOf(res.headers.get("x-request-id") ?? "");
    expect(rows).toHaveLength(pieces);
    const rowsMs = rows.reduce((n, r) => n + r.audioMs, 0);
    expect(rowsMs).toBe(pieces * AUDIO_MS + (pieces - 1) * 200);
    const measured = await measureDuration("flac", bytes, 22050);
    expect(measured.ok && Math.abs(measured.durationMs - rowsMs) < 1, JSON.stringify(measured)).toBe(true);
  });

  it("a stream holds its in-flight permit until its last byte: max_in_flight counts open streams", async () => {
    await putPlan(proxy, "one-at-a-time", { max_in_flight: 1 });
    await addPrice(proxy, "one-at-a-time", { unit_price_micros_per_1k_tokens: 1000 });
    const single = await proxy.newCustomer("one-at-a-time");
    let release!: () => void;
    const rest = new Promise<void>((r) => {
      release = r;
    });
    let arrived = 0;
    node.state.gate = async () => {
      if (++arrived > 1) await rest;
    };
    const speech = (body: Record<string, unknown>) =>
      fetch(`${proxy.url}/v1/audio/speech`, {
        method: "POST",
        headers: { authorization: `Bearer ${single.key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "tts-1", voice: "alloy", input: FOUR, response_format: "wav", ...body }),
      });
    const open = await speech({ stream_format: "audio" });
    const reader = (open.body as ReadableStream<Uint8Array>).getReader();
    expect((await reader.read()).value?.byteLength).toBeGreaterThan(0);
    // the first stream has sent audio and is waiting for its next piece: a second request is over the limit
    const second = await speech({ input: "hi" });
    expect(second.status).toBe(429);
    expect(((await second.json()) as { error: { code: string } }).error.code).toBe("TOO_MANY_IN_FLIGHT");
    release();
    node.state.gate = null;
    while (!(await reader.read()).done) {}
    const third = await speech({ input: "hi" });
    expect(third.status).toBe(200);
    await third.arrayBuffer();
  });

  it("an Idempotency-Key with stream_format is refused (a stream cannot be replayed)", async () => {
    const res = await fetch(`${proxy.url}/v1/tts`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${customer.key}`,
        "content-type": "application/json",
        "idempotency-key": "s-1",
      },
      body: JSON.stringify({ text: "hi", stream_format: "audio" }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "INVALID_REQUEST", param: "stream_format" } });
  });
});
