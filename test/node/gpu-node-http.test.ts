import { Readable } from "node:stream";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeWav } from "../../audio/wav.ts";
import type { EngineObserver } from "../../gpu-node/src/engine/observer.ts";
import { createTestNode, listen } from "../../gpu-node/src/testing/harness.ts";

type TestNode = Awaited<ReturnType<typeof createTestNode>>;

/** The article's locustfile payload, byte for byte. */
const ARTICLE_PAYLOAD = {
  text: "欢迎使用IndexTTS2语音合成服务,支持情感调节和多音色选择。",
  emotion: "happy",
  speaker_id: 0,
  speed: 1.0,
};

describe("gpu-node HTTP API (real server on 127.0.0.1, tiny model)", () => {
  let node: TestNode;
  let server: Awaited<ReturnType<typeof listen>>;

  beforeAll(async () => {
    node = await createTestNode({ maxBatch: 8, maxQueue: 8 });
    server = await listen(node.app.fetch);
  });
  afterAll(async () => {
    await server.close();
    await node.close();
  });

  const post = (body: string | object, headers: Record<string, string> = {}) =>
    request(`${server.url}/synthesize`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });

  it("accepts the article's payload and returns a 22,050 Hz 16-bit mono WAV with its headers", async () => {
    const res = await post(ARTICLE_PAYLOAD);
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("audio/wav");
    const wav = new Uint8Array(await res.body.arrayBuffer());
    const info = describeWav(wav);
    expect(info).toMatchObject({ sampleRate: 22050, channels: 1, bitDepth: "16" });
    expect(Number(res.headers["x-audio-duration-ms"])).toBeCloseTo(info.durationMs, 0);
    expect(Number(res.headers["x-semantic-tokens"])).toBeGreaterThan(0);
    // 50 semantic tokens per second of audio, give or take the 1.72 frames-per-code rounding
    expect(info.durationMs / 1000).toBeCloseTo(Number(res.headers["x-semantic-tokens"]) / 50, 0);
    for (const h of ["x-queue-wait-ms", "x-batch-size", "x-compute-ms", "x-request-id"]) {
      expect(res.headers[h]).toBeDefined();
    }
    expect(res.headers["x-model-random-weights"]).toBe("true");
  });

  it("takes the optional fields: seed, emotion_vector, emotion_alpha, max_tokens, priority, deadline_ms, num_beams", async () => {
    const body = {
      text: "Hello world.",
      speaker_id: 1,
      speed: 1.25,
      seed: 42,
      emotion_vector: [0, 0, 0.5, 0, 0, 0.3, 0, 0],
      emotion_alpha: 0.9,
      max_tokens: 12,
      priority: "batch",
      deadline_ms: 60_000,
      num_beams: 1,
    };
    const a = await post(body);
    const b = await post(body);
    const beams = await post({ ...body, num_beams: 3 });
    expect(a.statusCode).toBe(200);
    expect(a.headers["x-semantic-tokens"]).toBe("12");
    const audio = Buffer.from(await a.body.arrayBuffer());
    expect(Buffer.from(await b.body.arrayBuffer())).toEqual(audio);
    // three beams sample other codes from the same seed (the default without num_beams is 3)
    expect(beams.statusCode).toBe(200);
    expect(Buffer.from(await beams.body.arrayBuffer())).not.toEqual(audio);
  });

  const badInputs: [string, string | object, Record<string, string>, number, string][] = [
    ["invalid JSON", "{not json", {}, 400, "INVALID_JSON"],
    [
      "wrong content type",
      "text=hi",
      { "content-type": "application/x-www-form-urlencoded" },
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    ],
    ["empty text", { text: "   " }, {}, 400, "EMPTY_TEXT"],
    ["missing text", { emotion: "happy" }, {}, 400, "INVALID_REQUEST"],
    ["text of the wrong type", { text: 42 }, {}, 400, "INVALID_REQUEST"],
    ["speed of the wrong type", { text: "hi", speed: "fast" }, {}, 400, "INVALID_REQUEST"],
    ["num_beams of 0", { text: "hi", num_beams: 0 }, {}, 400, "INVALID_REQUEST"],
    ["num_beams above 8", { text: "hi", num_beams: 9 }, {}, 400, "INVALID_REQUEST"],
    ["over-long text", { text: "啊".repeat(2001) }, {}, 400, "TEXT_TOO_LONG"],
    ["unknown speaker", { text: "hi", speaker_id: 99 }, {}, 400, "UNKNOWN_SPEAKER"],
    ["negative speaker", { text: "hi", speaker_id: -1 }, {}, 400, "INVALID_REQUEST"],
    ["unknown emotion", { text: "hi", emotion: "ecstatic" }, {}, 400, "UNKNOWN_EMOTION"],
    [
      "both emotion forms",
      { text: "hi", emotion: "sad", emotion_vector: [0, 0, 1, 0, 0, 0, 0, 0] },
      {},
      400,
      "CONFLICTING_EMOTION",
    ],
    ["short emotion vector", { text: "hi", emotion_vector: [1, 0] }, {}, 400, "INVALID_REQUEST"],
    ["speed too high", { text: "hi", speed: 4.5 }, {}, 400, "SPEED_OUT_OF_RANGE"],
    ["speed too low", { text: "hi", speed: 0.1 }, {}, 400, "SPEED_OUT_OF_RANGE"],
    ["max_tokens too high", { text: "hi", max_tokens: 100000 }, {}, 400, "INVALID_REQUEST"],
    ["unknown priority header", { text: "hi" }, { "x-priority": "urgent" }, 400, "INVALID_REQUEST"],
    ["oversized body", { text: "a".repeat(20_000) }, {}, 413, "PAYLOAD_TOO_LARGE"],
    ["a JSON array", [1, 2, 3], {}, 400, "INVALID_REQUEST"],
    ["JSON null", "null", {}, 400, "INVALID_REQUEST"],
    ["an empty body", "", {}, 400, "INVALID_JSON"],
    ["no content type", "{}", { "content-type": "" }, 415, "UNSUPPORTED_MEDIA_TYPE"],
    ["speaker_id of the wrong type", { text: "hi", speaker_id: "0" }, {}, 400, "INVALID_REQUEST"],
    ["fractional speaker_id", { text: "hi", speaker_id: 0.5 }, {}, 400, "INVALID_REQUEST"],
    ["emotion of the wrong type", { text: "hi", emotion: 3 }, {}, 400, "INVALID_REQUEST"],
    ["emotion_alpha out of range", { text: "hi", emotion: "sad", emotion_alpha: 2 }, {}, 400, "INVALID_REQUEST"],
    ["negative seed", { text: "hi", seed: -1 }, {}, 400, "INVALID_REQUEST"],
    ["zero deadline", { text: "hi", deadline_ms: 0 }, {}, 400, "INVALID_REQUEST"],
    ["unknown priority field", { text: "hi", priority: "urgent" }, {}, 400, "INVALID_REQUEST"],
    ["text in too many segments", { text: "啊".repeat(1990) }, {}, 400, "TOO_MANY_SEGMENTS"],
  ];
  it.each(badInputs)("rejects %s with a 4xx JSON error and a stable code", async (_, body, headers, status, code) => {
    const res = await post(body, headers);
    expect(res.statusCode).toBe(status);
    const json = (await res.body.json()) as { error: { code: string; message: string; request_id: string } };
    expect(json.error.code).toBe(code);
    expect(json.error.message.length).toBeGreaterThan(0);
    expect(json.error.request_id).toBe(res.headers["x-request-id"]);
  });

  it("rejects an oversized chunked body (no Content-Length) with 413 PAYLOAD_TOO_LARGE", async () => {
    async function* chunks() {
      const piece = Buffer.from(`{"text":"${"a".repeat(4000)}`);
      for (let i = 0; i < 6; i++) yield piece;
      yield Buffer.from(`"}`);
    }
    const res = await request(`${server.url}/synthesize`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: Readable.from(chunks()),
    });
    expect(res.statusCode).toBe(413);
    expect(((await res.body.json()) as { error: { code: string } }).error.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("takes the priority from the X-Priority header the proxy sets", async () => {
    const res = await post({ text: "Batch work.", max_tokens: 5 }, { "x-priority": "batch" });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    const metrics = await (await request(`${server.url}/metrics`)).body.text();
    expect(metrics).toMatch(/^gpu_node_requests_completed_total\{priority="batch"\} [1-9]/m);
  });

  it("keeps answering /healthz while it synthesizes (no blocking stretch longer than one graph call)", async () => {
    const long = post({ text: "The quick brown fox jumps over the lazy dog, again and again.", max_tokens: 600 });
    const deadline = Date.now() + 10_000;
    while (node.engine.stats().gptBatch === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    // Graph calls finished while each /healthz was being answered: counted, not timed, so a loaded machine (where
    // any wall-clock bound can fail) measures the same thing. Blocking would let many calls pass per answer.
    const engine = node.engine as unknown as { observer: EngineObserver };
    const inner = engine.observer;
    let graphCalls = 0;
    engine.observer = Object.assign(Object.create(inner) as EngineObserver, {
      stageRun(...args: Parameters<EngineObserver["stageRun"]>) {
        graphCalls++;
        inner.stageRun(...args);
      },
    });
    const lags: number[] = [];
    try {
      while (node.engine.stats().inFlight > 0 && lags.length < 20) {
        const before = graphCalls;
        const res = await request(`${server.url}/healthz`);
        const body = (await res.body.json()) as { in_flight: number };
        lags.push(graphCalls - before);
        if (body.in_flight === 0) break;
      }
    } finally {
      engine.observer = inner;
    }
    const res = await long;
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(lags.length).toBeGreaterThanOrEqual(3);
    // answered between graph calls: at most the call under way and the next one or two finish meanwhile
    expect(Math.max(...lags)).toBeLessThanOrEqual(3);
  });

  it("answers unknown routes and methods with JSON errors", async () => {
    const notFound = await request(`${server.url}/nope`);
    expect(notFound.statusCode).toBe(404);
    expect(((await notFound.body.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
    const get = await request(`${server.url}/synthesize`);
    expect(get.statusCode).toBe(405);
    await get.body.dump();
  });

  it("/healthz reports readiness, queue depth, in-flight and free capacity", async () => {
    const res = await request(`${server.url}/healthz`);
    expect(res.statusCode).toBe(200);
    const body = (await res.body.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      status: "ok",
      ready: true,
      queue_depth: 0,
      in_flight: 0,
      max_batch: 8,
      free_slots: 8,
    });
  });

  it("/info says the weights are random and lists voices, emotions, limits and batching", async () => {
    const res = await request(`${server.url}/info`);
    const info = (await res.body.json()) as {
      model: { random_weights: boolean; warning: string };
      voices: unknown[];
      emotions: string[];
      limits: Record<string, unknown>;
      batching: Record<string, unknown>;
    };
    expect(info.model.random_weights).toBe(true);
    expect(info.model.warning).toMatch(/RANDOM weights/);
    expect(info.voices.length).toBeGreaterThanOrEqual(3);
    expect(info.emotions).toEqual(["happy", "angry", "sad", "afraid", "disgusted", "melancholic", "surprised", "calm"]);
    expect(info.limits).toMatchObject({ max_text_chars: 2000, max_text_tokens_per_segment: 120 });
    expect(info.batching).toMatchObject({ max_batch: 8, max_queue: 8 });
  });

  it("/metrics exposes queue, batch sizes, stage latency, tokens, RTF, rejects and busy fraction", async () => {
    await post({ text: "metrics please" });
    const res = await request(`${server.url}/metrics`);
    const text = await res.body.text();
    for (const name of [
      "gpu_node_queue_depth",
      "gpu_node_in_flight",
      'gpu_node_batch_size_bucket{le="1",stage="decode"}',
      'gpu_node_stage_seconds_count{stage="decode"}',
      'gpu_node_stage_seconds_count{stage="cfm_step"}',
      'gpu_node_stage_seconds_count{stage="vocoder"}',
      "gpu_node_semantic_tokens_total",
      "gpu_node_real_time_factor_bucket",
      'gpu_node_rejects_total{reason="empty_text"}',
      "gpu_node_engine_busy_ratio",
      "gpu_node_tokens_per_second",
    ]) {
      expect(text).toContain(name);
    }
    const tokens = Number(/^gpu_node_semantic_tokens_total (\d+)/m.exec(text)?.[1]);
    expect(tokens).toBeGreaterThan(0);
  });

  it("a client that disconnects leaves the batch; nothing stays in flight", async () => {
    const controller = new AbortController();
    const pending = request(`${server.url}/synthesize`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "The quick brown fox jumps over the lazy dog again.", max_tokens: 1400 }),
      signal: controller.signal,
    }).catch((e: Error) => e);
    const deadline = Date.now() + 10_000;
    while (node.engine.stats().gptBatch === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(node.engine.stats().gptBatch).toBe(3); // its three beams (IndexTTS2's default), one batch row each
    controller.abort();
    expect(await pending).toBeInstanceOf(Error);
    while (node.engine.stats().inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(node.engine.stats().inFlight).toBe(0);
    const metrics = await (await request(`${server.url}/metrics`)).body.text();
    expect(metrics).toMatch(/gpu_node_requests_failed_total\{code="CLIENT_CLOSED"\} 1/);
  });
});

describe("gpu-node backpressure over HTTP", () => {
  it("answers 503 with Retry-After when the queue is full, never an unbounded wait", async () => {
    const node = await createTestNode({ maxBatch: 1, maxQueue: 1 });
    const server = await listen(node.app.fetch);
    try {
      const send = () =>
        request(`${server.url}/synthesize`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ text: "Backpressure test sentence.", max_tokens: 60 }),
        });
      const responses = await Promise.all([send(), send(), send(), send()]);
      const statuses = responses.map((r) => r.statusCode);
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
      const refused = responses.filter((r) => r.statusCode === 503);
      expect(refused.length).toBeGreaterThanOrEqual(1);
      for (const r of refused) {
        expect(Number(r.headers["retry-after"])).toBeGreaterThanOrEqual(1);
        expect(((await r.body.json()) as { error: { code: string } }).error.code).toBe("QUEUE_FULL");
      }
      for (const r of responses) await r.body.dump();
      const metrics = await (await request(`${server.url}/metrics`)).body.text();
      expect(metrics).toContain(`gpu_node_rejects_total{reason="queue_full"} ${refused.length}`);
    } finally {
      await server.close();
      await node.close();
    }
  });
});
