/**
 * The gpu-node's streamed answer (`Accept: application/vnd.indextts.segments`, audio/segment-frames.ts) over real
 * HTTP with the tiny model: segments in text order, each with its sample count, joined they are exactly the whole
 * answer's audio, and a refusal before any audio is still a JSON error.
 */
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pcm16FromBytes } from "../../audio/pcm.ts";
import { SEGMENTS_CONTENT_TYPE, type SegmentFrame, SegmentFrameReader } from "../../audio/segment-frames.ts";
import { pcmData } from "../../audio/wav.ts";
import { createTestNode, listen } from "../../gpu-node/src/testing/harness.ts";

/** three segments for the tiny model's 120-token segments (116, 116 and 58 tokens) */
const TEXT = Array.from(
  { length: 10 },
  (_, i) => `Sentence ${i + 1} talks about the quick brown fox and the lazy dog by the river.`,
).join(" ");
const BODY = { text: TEXT, speaker_id: 0, seed: 7, max_tokens: 10, num_beams: 1 };

describe("gpu-node streamed segments (real server, tiny model)", () => {
  let node: Awaited<ReturnType<typeof createTestNode>>;
  let server: Awaited<ReturnType<typeof listen>>;

  beforeAll(async () => {
    node = await createTestNode({ maxBatch: 8, maxQueue: 8 });
    server = await listen(node.app.fetch);
  });
  afterAll(async () => {
    await server.close();
    await node.close();
  });

  const post = (body: object, accept?: string) =>
    request(`${server.url}/synthesize`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(accept ? { accept } : {}) },
      body: JSON.stringify(body),
    });

  it("sends each segment in text order with its sample count; joined with the 200 ms gaps they are the whole answer", async () => {
    const streamed = await post(BODY, SEGMENTS_CONTENT_TYPE);
    expect(streamed.statusCode).toBe(200);
    expect(streamed.headers["content-type"]).toBe(SEGMENTS_CONTENT_TYPE);
    expect(streamed.headers["x-sample-rate"]).toBe("22050");
    const reader = new SegmentFrameReader(16 * 2 ** 20);
    const frames: SegmentFrame[] = [];
    for await (const chunk of streamed.body) frames.push(...reader.push(new Uint8Array(chunk as Buffer)));
    reader.finish();

    const segments = frames.filter((f) => f.kind === "segment");
    expect(segments.map((f) => f.index)).toEqual([0, 1, 2]);
    const end = frames.at(-1);
    expect(end?.kind).toBe("end");

    const whole = await post(BODY);
    expect(whole.statusCode).toBe(200);
    const data = pcmData(new Uint8Array(await whole.body.arrayBuffer()));
    if (!data) throw new Error("no PCM in the whole answer");
    const expected = pcm16FromBytes(data.slice());
    const gap = new Int16Array(Math.round(0.2 * 22_050));
    const joined = segments.flatMap((f, i) => (i === 0 ? [f.pcm] : [gap, f.pcm]));
    const total = joined.reduce((n, p) => n + p.length, 0);
    expect(total).toBe(expected.length);
    const audio = new Int16Array(total);
    let at = 0;
    for (const p of joined) {
      audio.set(p, at);
      at += p.length;
    }
    expect(
      Buffer.from(audio.buffer).equals(Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength)),
    ).toBe(true);
    if (end?.kind === "end") {
      expect(end.end.segments).toBe(3);
      expect(end.end.samples).toBe(segments.reduce((n, f) => n + f.pcm.length, 0));
    }
  });

  it("a refusal before any audio is an ordinary JSON error with its status", async () => {
    const res = await post({ text: "Hello.", emotion: "bored" }, SEGMENTS_CONTENT_TYPE);
    expect(res.statusCode).toBe(400);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(((await res.body.json()) as { error: { code: string } }).error.code).toBe("UNKNOWN_EMOTION");
  });

  it("the reader refuses a frame whose samples disagree with its count, and a body cut before its END", () => {
    const reader = new SegmentFrameReader(1024);
    const bad = new Uint8Array([1, 10, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 1, 0]);
    expect(() => reader.push(bad)).toThrow(/states 3 samples but carries 1/);
    const cut = new SegmentFrameReader(1024);
    cut.push(new Uint8Array([1, 10, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 5, 0]));
    expect(() => cut.finish()).toThrow(/without its END frame/);
    expect(() => new SegmentFrameReader(8).push(new Uint8Array([1, 100, 0, 0, 0]))).toThrow(/exceeds 8/);
  });
});
