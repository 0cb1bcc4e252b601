/**
 * The official `openai` npm client, unchanged, against the proxy (a stand-in node answering silent WAV): the calls
 * quickstarts make, every voice name and format, speed extremes, 4,096 characters, SSE, GET /v1/models.
 */
import { FLACDecoder } from "@wasm-audio-decoders/flac";
import { MPEGDecoder } from "mpg123-decoder";
import { OggOpusDecoder } from "ogg-opus-decoder";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { measureDuration } from "../../audio/duration.ts";
import { AUDIO_FORMATS } from "../../audio/formats.ts";
import { OPENAI_VOICES } from "../../proxy/src/synthesis/voices.ts";
import { startProxy, startStubNode } from "../../proxy/src/testing/stack.ts";
import { addPrice, GENEROUS_IP, putPlan } from "./proxy-helpers.ts";

const AUDIO_MS = 1500;

/**
 * The audio decoded back by independent decoders (libmpg123, libopus, libFLAC in WASM): its duration in ms. AAC has no
 * decoder among this project's packages: its length is read from its ADTS frames only.
 */
async function decodedMs(format: string, bytes: Uint8Array): Promise<number | null> {
  if (format === "mp3") {
    const d = new MPEGDecoder();
    await d.ready;
    const out = d.decode(bytes);
    d.free();
    return (out.samplesDecoded / out.sampleRate) * 1000;
  }
  if (format === "opus") {
    const d = new OggOpusDecoder();
    await d.ready;
    const out = await d.decodeFile(bytes);
    d.free();
    return (out.samplesDecoded / out.sampleRate) * 1000;
  }
  if (format === "flac") {
    const d = new FLACDecoder();
    await d.ready;
    const out = await d.decodeFile(bytes);
    d.free();
    return (out.samplesDecoded / out.sampleRate) * 1000;
  }
  return null;
}

describe("the official openai client against /v1/audio/speech", () => {
  let node: Awaited<ReturnType<typeof startStubNode>>;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let client: OpenAI;

  beforeAll(async () => {
    node = await startStubNode(AUDIO_MS);
    proxy = await startProxy([node.url], {
      config: GENEROUS_IP,
      voices: [
        { id: 0, name: "Alice", description: "stub" },
        { id: 1, name: "bob", description: "stub" },
      ],
    });
    await putPlan(proxy, "speech-test");
    await addPrice(proxy, "speech-test", { unit_price_micros_per_1k_tokens: 1000 });
    const customer = await proxy.newCustomer("speech-test");
    client = new OpenAI({ apiKey: customer.key, baseURL: `${proxy.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await proxy.close();
    await node.close();
  });

  const bytesOf = async (res: Response) => new Uint8Array(await res.arrayBuffer());

  it("the quickstart call (alloy, no format) answers MP3 whose frames hold the metered duration", async () => {
    const res = await client.audio.speech.create({ model: "gpt-4o-mini-tts", voice: "alloy", input: "Hello there." });
    expect(res.headers.get("content-type")).toBe("audio/mpeg");
    const metered = Number(res.headers.get("x-audio-duration-ms"));
    expect(metered).toBe(AUDIO_MS);
    const measured = await measureDuration("mp3", await bytesOf(res), 22050);
    expect(measured.ok).toBe(true);
    if (measured.ok) expect(Math.abs(measured.durationMs - metered)).toBeLessThan(160);
  });

  for (const format of AUDIO_FORMATS) {
    it(`response_format ${format}: decoded back, its duration is the metered audio`, async () => {
      const res = await client.audio.speech.create({
        model: "tts-1",
        voice: "nova",
        input: "Format check.",
        response_format: format,
      });
      const bytes = await bytesOf(res);
      const measured = await measureDuration(format, bytes, 22050);
      expect(measured).toMatchObject({ ok: true });
      if (measured.ok) expect(Math.abs(measured.durationMs - AUDIO_MS)).toBeLessThan(160);
      const decoded = await decodedMs(format, bytes);
      // MP3 decodes with LAME's priming and padding (up to about 2 frames); Opus and FLAC to within a frame
      if (decoded !== null) expect(Math.abs(decoded - AUDIO_MS), `${format} decoded ${decoded} ms`).toBeLessThan(110);
      if (format === "pcm") expect(bytes.byteLength).toBe((AUDIO_MS / 1000) * 24_000 * 2);
    });
  }

  it("every OpenAI voice name works, in any case; deployment names match case-insensitively", async () => {
    for (const voice of [...OPENAI_VOICES, "ALLOY", "Shimmer", "alice", "BOB"]) {
      const res = await client.audio.speech.create({
        model: "tts-1",
        voice,
        input: "Hi.",
        response_format: "wav",
      });
      expect(res.status, voice).toBe(200);
    }
    await client.audio.speech.create({ model: "tts-1", voice: "ash", input: "Hi.", response_format: "wav" });
    expect((node.state.lastBody as { speaker_id: number }).speaker_id).toBe(1);
  });

  it("speed 0.25 and 4.0 reach the node; 4.5 is refused in the shape the SDK reads", async () => {
    for (const speed of [0.25, 4]) {
      await client.audio.speech.create({ model: "tts-1", voice: "alloy", input: "Hi.", speed, response_format: "wav" });
      expect((node.state.lastBody as { speed: number }).speed).toBe(speed);
    }
    const error = await client.audio.speech
      .create({ model: "tts-1", voice: "alloy", input: "Hi.", speed: 4.5 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, type: "invalid_request_error" });
  });

  it("4,096 characters in one request: split into pieces for the node, one answer, one usage row", async () => {
    const sentence = "This sentence is part of a long text. ";
    const input = sentence.repeat(Math.ceil(4096 / sentence.length)).slice(0, 4096);
    const served = node.state.served;
    const res = await client.audio.speech.create({ model: "tts-1", voice: "alloy", input, response_format: "flac" });
    const pieces = node.state.served - served;
    expect(pieces).toBeGreaterThan(1);
    const metered = Number(res.headers.get("x-audio-duration-ms"));
    expect(metered).toBe(pieces * AUDIO_MS + (pieces - 1) * 200);
    const measured = await measureDuration("flac", await bytesOf(res), 22050);
    expect(measured).toMatchObject({ ok: true });
    if (measured.ok) expect(Math.abs(measured.durationMs - metered)).toBeLessThan(1);

    const error = await client.audio.speech
      .create({ model: "tts-1", voice: "alloy", input: `${input}x` })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ code: "TEXT_TOO_LONG", param: "input" });
    expect((error as Error).message).toMatch(/4097 characters; the limit is 4096/);
  });

  it("stream_format sse: speech.audio.delta events carry the audio, speech.audio.done the usage", async () => {
    const res = await client.audio.speech.create({
      model: "gpt-4o-mini-tts",
      voice: "coral",
      input: "Streaming events.",
      response_format: "pcm",
      stream_format: "sse",
    });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = (await res.text())
      .split("\n\n")
      .filter((e) => e.startsWith("data: "))
      .map((e) => JSON.parse(e.slice(6)) as { type: string; audio?: string; usage?: Record<string, number> });
    const deltas = events.filter((e) => e.type === "speech.audio.delta");
    const audioBytes = deltas.reduce((n, e) => n + Buffer.from(e.audio ?? "", "base64").byteLength, 0);
    expect(audioBytes).toBe((AUDIO_MS / 1000) * 24_000 * 2);
    const done = events.at(-1);
    expect(done?.type).toBe("speech.audio.done");
    expect(done?.usage).toEqual({ input_tokens: 17, output_tokens: 75, total_tokens: 92 });
  });

  it("GET /v1/models lists the model ids the clients send", async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(expect.arrayContaining(["tts-1", "tts-1-hd", "gpt-4o-mini-tts"]));
  });
});

describe("the length rule on the native route (issue 14, defect 4)", () => {
  let node: Awaited<ReturnType<typeof startStubNode>>;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let key: string;
  beforeAll(async () => {
    node = await startStubNode(200);
    proxy = await startProxy([node.url], { config: GENEROUS_IP });
    await putPlan(proxy, "speech-test");
    await addPrice(proxy, "speech-test", { unit_price_micros_per_1k_tokens: 1000 });
    key = (await proxy.newCustomer("speech-test")).key;
  });
  afterAll(async () => {
    await proxy.close();
    await node.close();
  });
  const tts = (text: string) =>
    fetch(`${proxy.url}/v1/tts`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ text }),
    });

  it("1,500 emoji (3,000 UTF-16 units) and 2,000 × 'x' are spoken; 4,097 code points get TEXT_TOO_LONG", async () => {
    expect((await tts("😀".repeat(1500))).status).toBe(200);
    expect((await tts("x".repeat(2000))).status).toBe(200);
    const refused = await tts("😀".repeat(4097));
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({
      error: { code: "TEXT_TOO_LONG", details: { length: 4097, limit: 4096 } },
    });
  });
});
