/**
 * Streams made of the node's segments (audio/segment-frames.ts): within one request, a segment reaches the client
 * before the node is let make the next one, each segment's usage row is durable before its bytes leave, a client
 * that leaves mid-piece pays for the segments it was sent, and over the real gpu-node (tiny model) the rows and the
 * streamed audio add up to the whole answer. Proved by ordering, not timing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { measureDuration } from "../../audio/duration.ts";
import { createTestNode, listen } from "../../gpu-node/src/testing/harness.ts";
import { createMemoryStores } from "../../proxy/src/store/memory/index.ts";
import type { UsageEvent } from "../../proxy/src/store/ports.ts";
import { startProxy, startStubNode } from "../../proxy/src/testing/stack.ts";
import { addPrice, GENEROUS_IP, putPlan } from "./proxy-helpers.ts";

const AUDIO_MS = 1000;

function recordingStores(committed: UsageEvent[]) {
  const stores = createMemoryStores();
  const append = stores.ledger.append.bind(stores.ledger);
  stores.ledger.append = async (events) => {
    const outcomes = await append(events);
    committed.push(...events.filter((_, i) => outcomes[i]?.inserted));
    return outcomes;
  };
  return stores;
}

const rowsOf = (committed: UsageEvent[], requestId: string) =>
  committed.filter((e) => e.requestId === requestId || e.requestId.startsWith(`${requestId}.`));

describe("streamed speech, segment by segment (stub node)", () => {
  let node: Awaited<ReturnType<typeof startStubNode>>;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let key: string;
  const committed: UsageEvent[] = [];

  beforeAll(async () => {
    node = await startStubNode(AUDIO_MS);
    proxy = await startProxy([node.url], { config: GENEROUS_IP, stores: recordingStores(committed) });
    await putPlan(proxy, "segments");
    await addPrice(proxy, "segments", { unit_price_micros_per_1k_tokens: 1000 });
    key = (await proxy.newCustomer("segments")).key;
  });
  afterAll(async () => {
    node.state.segments = null;
    await proxy.close();
    await node.close();
  });

  const speak = (signal?: AbortSignal) =>
    fetch(`${proxy.url}/v1/audio/speech`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      // one short sentence: one piece, which the node makes in three segments
      body: JSON.stringify({
        model: "tts-1",
        voice: "alloy",
        input: "Hello there.",
        response_format: "wav",
        stream_format: "audio",
      }),
      ...(signal ? { signal } : {}),
    });

  it("one piece: each segment's row is durable before its bytes, and the client has segment 0 before segment 1 is made", async () => {
    const events: string[] = [];
    let clientHasAudio!: () => void;
    const audioArrived = new Promise<void>((r) => {
      clientHasAudio = r;
    });
    node.state.segments = {
      count: 3,
      gate: async (i) => {
        if (i > 0) await audioArrived;
        events.push(`node made segment ${i}`);
      },
    };
    const res = await speak();
    expect(res.status).toBe(200);
    const requestId = res.headers.get("x-request-id") ?? "";
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const chunks: Uint8Array[] = [];
    let rowsAtFirstAudio: string[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (chunks.length === 0) {
        rowsAtFirstAudio = rowsOf(committed, requestId).map((r) => r.requestId);
        events.push("client got audio");
        clientHasAudio();
      }
      chunks.push(value);
    }
    node.state.segments = null;
    expect(events.slice(0, 3)).toEqual(["node made segment 0", "client got audio", "node made segment 1"]);
    expect(rowsAtFirstAudio).toEqual([`${requestId}.0`]);
    const rows = rowsOf(committed, requestId);
    expect(rows.map((r) => r.requestId)).toEqual([`${requestId}.0`, `${requestId}.1`, `${requestId}.2`]);
    // the 200 ms IndexTTS2 puts between segments goes before every segment but the first
    expect(rows.map((r) => r.audioMs)).toEqual([1000, 1200, 1200]);
    expect(rows.reduce((n, r) => n + r.tokens, 0)).toBe(170);
    const measured = await measureDuration("wav", new Uint8Array(Buffer.concat(chunks)), 22050);
    expect(measured).toMatchObject({ ok: true, durationMs: 3400 });
  });

  it("a client that leaves after the first segment pays for it alone; the node is called off", async () => {
    let calledOff!: () => void;
    const whenCalledOff = new Promise<void>((r) => {
      calledOff = r;
    });
    node.state.segments = {
      count: 3,
      gate: async (i, signal) => {
        if (i === 0) return;
        await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
        calledOff();
        throw new Error("called off");
      },
    };
    const abort = new AbortController();
    const res = await speak(abort.signal);
    const requestId = res.headers.get("x-request-id") ?? "";
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const { value } = await reader.read();
    expect(value?.byteLength).toBeGreaterThan(0);
    abort.abort();
    await reader.cancel().catch(() => {});
    await whenCalledOff;
    node.state.segments = null;
    expect(rowsOf(committed, requestId).map((r) => [r.requestId, r.audioMs])).toEqual([[`${requestId}.0`, AUDIO_MS]]);
  });
});

describe("streamed speech over the real gpu-node (tiny model, random weights)", () => {
  let node: Awaited<ReturnType<typeof createTestNode>>;
  let server: Awaited<ReturnType<typeof listen>>;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let key: string;
  const committed: UsageEvent[] = [];
  const TEXT = "Hello there. The fox ran home. Good night.";

  beforeAll(async () => {
    node = await createTestNode({ maxBatch: 8, maxQueue: 8, numBeams: 1 });
    // Each sentence its own segment, as the tiny model's 120-token segments would cut a text ten times longer: three
    // segments at a fraction of the compute.
    const segments = node.text.segments.bind(node.text);
    node.text.segments = (text) => text.split(/(?<=\.)\s+/).flatMap((sentence) => segments(sentence));
    server = await listen(node.app.fetch);
    proxy = await startProxy([server.url], {
      config: { ...GENEROUS_IP, pieceMaxChars: 2000 },
      stores: recordingStores(committed),
    });
    await putPlan(proxy, "segments-real");
    await addPrice(proxy, "segments-real", { unit_price_micros_per_1k_tokens: 1000 });
    key = (await proxy.newCustomer("segments-real")).key;
  });
  afterAll(async () => {
    await proxy.close();
    await server.close();
    await node.close();
  });

  it("one row per segment in text order; rows, streamed container and the node's own audio agree", async () => {
    const res = await fetch(`${proxy.url}/v1/tts`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ text: TEXT, voice: 0, seed: 3, response_format: "flac", stream_format: "audio" }),
    });
    expect(res.status).toBe(200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const requestId = res.headers.get("x-request-id") ?? "";
    const rows = rowsOf(committed, requestId);
    expect(rows.map((r) => r.requestId)).toEqual([0, 1, 2].map((s) => `${requestId}.${s}`));
    const rowsMs = rows.reduce((n, r) => n + r.audioMs, 0);
    const measured = await measureDuration("flac", bytes, 22050);
    expect(measured.ok && Math.abs(measured.durationMs - rowsMs) < 2, JSON.stringify(measured)).toBe(true);
    // the node's whole answer for the same text and seed is the same audio
    const whole = await fetch(`${server.url}/synthesize`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: TEXT, speaker_id: 0, seed: 3 }),
    });
    const wholeMs = Number(whole.headers.get("x-audio-duration-ms"));
    await whole.arrayBuffer();
    expect(Math.abs(wholeMs - rowsMs)).toBeLessThan(2);
  });
});
