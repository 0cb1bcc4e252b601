import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { mp3FramesDuration } from "../../audio/mp3-frames.ts";
import { admin, eventually, newCustomer, request, self, tts, upsertPlan, usageRowsFor } from "./helpers.ts";

describe("the Worker in workerd, forwarding to a real gpu-node over HTTP", () => {
  beforeAll(async () => {
    // The default plans are created by the node-health object on first start; loosen basic's limits for this file.
    expect((await self(request("/healthz"))).status).toBe(200);
    await upsertPlan("basic", { rps: 1000, burst: 1000, inFlight: 64 });
  });

  it("answers 401 without a key or with an unknown one, 403 for a suspended customer, 401 on admin without the token", async () => {
    const missing = await self(request("/v1/voices"));
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("MISSING_API_KEY");
    const unknown = await self(request("/v1/voices", { headers: { authorization: "Bearer tts_live_nope" } }));
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("INVALID_API_KEY");

    const c = await newCustomer();
    expect((await self(request("/v1/voices", { headers: { "x-api-key": c.key } }))).status).toBe(200);
    await admin("POST", `/admin/customers/${c.id}/suspend`, { reason: "unpaid" });
    const suspended = await self(request("/v1/voices", { headers: { "x-api-key": c.key } }));
    expect(suspended.status).toBe(403);
    expect(((await suspended.json()) as { error: { code: string } }).error.code).toBe("CUSTOMER_SUSPENDED");

    const noToken = await self(request("/admin/customers"));
    expect(noToken.status).toBe(401);
  });

  it("synthesizes through the real node, meters the WAV, and its usage row reaches D1 through the queue", async () => {
    const c = await newCustomer();
    const res = await self(tts(c.key));
    const body = new Uint8Array(await res.arrayBuffer());
    expect(res.status, new TextDecoder().decode(body.slice(0, 300))).toBe(200);
    expect(res.headers.get("content-type")).toBe("audio/wav");
    expect(new TextDecoder().decode(body.slice(0, 4))).toBe("RIFF");
    const tokens = Number(res.headers.get("x-tokens"));
    expect(tokens).toBeGreaterThan(0);
    const id = res.headers.get("x-request-id") ?? "";
    await eventually(async () => (await usageRowsFor([id])).length === 1, 20_000, "the usage row in D1");
    expect(await usageRowsFor([id])).toEqual([{ request_id: id, tokens }]);
    const voices = (await (await self(request("/v1/voices", { headers: { "x-api-key": c.key } }))).json()) as {
      voices: unknown[];
    };
    expect(voices.voices.length).toBeGreaterThan(0);
    expect(env.GPU_NODE_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("speaks /v1/audio/speech with OpenAI voice names; encodes MP3 (bundled WASM) and WAV, says so for other formats", async () => {
    const c = await newCustomer();
    const speech = (body: Record<string, unknown>) =>
      self(
        request("/v1/audio/speech", {
          method: "POST",
          headers: { authorization: `Bearer ${c.key}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "tts-1", input: "Hello from the edge.", voice: "alloy", ...body }),
        }),
      );
    // OpenAI's default, MP3: LAME's WASM imported as a module at build time (workerd compiles none at run time)
    const mp3 = await speech({});
    expect(mp3.status).toBe(200);
    expect(mp3.headers.get("content-type")).toBe("audio/mpeg");
    const frames = new Uint8Array(await mp3.arrayBuffer());
    const measured = mp3FramesDuration(frames);
    expect(measured.ok && measured.durationMs > 0, JSON.stringify(measured)).toBe(true);
    const streamedMp3 = await speech({ stream_format: "audio" });
    expect(streamedMp3.status).toBe(200);
    expect(mp3FramesDuration(new Uint8Array(await streamedMp3.arrayBuffer())).ok).toBe(true);
    // the node streamed its one segment (fetch transport's stream()): the row is the segment's, `<id>.0`
    const streamedId = streamedMp3.headers.get("x-request-id") ?? "";
    await eventually(
      async () => (await usageRowsFor([`${streamedId}.0`])).length === 1,
      20_000,
      "the segment's usage row in D1",
    );
    // Opus, AAC and FLAC stay on the Node proxy (audio/README.md): a clear 400 naming what the Worker offers
    const opus = await speech({ response_format: "opus" });
    expect(opus.status).toBe(400);
    expect(await opus.json()).toMatchObject({
      error: { code: "UNSUPPORTED_FORMAT", type: "invalid_request_error", param: "response_format" },
    });
    const wav = await speech({ response_format: "wav", voice: "SHIMMER" });
    expect(wav.status).toBe(200);
    expect(new TextDecoder().decode(new Uint8Array(await wav.arrayBuffer()).slice(0, 4))).toBe("RIFF");
    // streamed: the WAV header with "unknown" sizes, then the samples
    const streamed = await speech({ response_format: "wav", stream_format: "audio" });
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get("x-streamed")).toBe("true");
    const bytes = new Uint8Array(await streamed.arrayBuffer());
    expect(new DataView(bytes.buffer).getUint32(40, true)).toBe(0xffffffff);
    expect(bytes.byteLength).toBeGreaterThan(44);
  });
});
