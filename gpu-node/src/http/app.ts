import type { Context } from "hono";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { floatToPcm16 } from "../../../audio/pcm.ts";
import { SEGMENTS_CONTENT_TYPE } from "../../../audio/segment-frames.ts";
import { wavFromPcm16 } from "../../../audio/wav.ts";
import { isNodeError, NodeError } from "../core/errors.ts";
import type { Engine, EngineOptions } from "../engine/engine.ts";
import { EMOTIONS, type Manifest } from "../model/manifest.ts";
import type { VoiceBank } from "../model/voices.ts";
import type { NodeMetrics } from "../telemetry/metrics.ts";
import { accessLog } from "./access-log.ts";
import { SPEED_MAX, SPEED_MIN, synthesizeBodySchema } from "./schemas.ts";
import { synthesize, type TextSegmenter } from "./synthesize.ts";
import { streamSegments } from "./synthesize-stream.ts";

export interface NodeAppDeps {
  engine: Pick<Engine, "submit" | "stats">;
  manifest: Manifest;
  voices: VoiceBank;
  text: TextSegmenter;
  metrics: NodeMetrics;
  engineOptions: EngineOptions;
  runtime: { executionProviders: string[]; intraOpThreads: number; interOpThreads: number; intraOpSpinning: boolean };
  /** largest accepted request body in bytes */
  maxBodyBytes: number;
  randomSeed?: () => number;
  newId?: () => string;
  log?: (line: Record<string, unknown>) => void;
  /**
   * Serve /metrics on this app (default). False when the node's metrics have their own internal listener
   * (`--metrics-port`, see `createMetricsApp`): the API port may then face the proxies without exposing them.
   */
  serveMetrics?: boolean;
}

type NodeEnv = { Variables: { requestId: string } };

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const RANDOM_WEIGHTS_NOTICE =
  "This model has RANDOM weights: its audio is noise. It exercises the real IndexTTS2 pipeline shape for tests and capacity measurements only.";

/** The gpu-node's HTTP API (internal to the cluster): /synthesize, /healthz, /info, /metrics. */
export function createNodeApp(deps: NodeAppDeps): Hono<NodeEnv> {
  const app = new Hono<NodeEnv>();
  const newId = deps.newId ?? (() => crypto.randomUUID());
  const randomSeed = deps.randomSeed ?? (() => crypto.getRandomValues(new Uint32Array(1))[0] ?? 0);
  const log = deps.log ?? (() => {});
  const { manifest } = deps;

  app.use(async (c, next) => {
    const given = c.req.header("x-request-id");
    const id = given && REQUEST_ID.test(given) ? given : newId();
    c.set("requestId", id);
    await next();
    c.header("X-Request-Id", id);
  });
  // after the request id: its line carries the id the proxy sent
  if (deps.log) app.use(accessLog({ log: deps.log }));

  app.post(
    "/synthesize",
    bodyLimit({
      maxSize: deps.maxBodyBytes,
      onError: () => {
        throw new NodeError("PAYLOAD_TOO_LARGE", `request body exceeds ${deps.maxBodyBytes} bytes`);
      },
    }),
    async (c) => {
      const body = synthesizeBodySchema.safeParse(await readJson(c));
      if (!body.success) {
        throw new NodeError(
          "INVALID_REQUEST",
          "the request body does not match the schema",
          undefined,
          body.error.issues,
        );
      }
      const id = c.get("requestId");
      const synthesisDeps = { engine: deps.engine, manifest, voices: deps.voices, text: deps.text, randomSeed };
      if ((c.req.header("accept") ?? "").includes(SEGMENTS_CONTENT_TYPE)) {
        return streamSegments(
          (onSegment, signal) =>
            synthesize(synthesisDeps, id, body.data, c.req.header("x-priority"), signal, onSegment),
          c.req.raw.signal,
          {
            "X-Request-Id": id,
            "X-Sample-Rate": String(manifest.sample_rate),
            "X-Model-Random-Weights": String(manifest.random_weights),
          },
        );
      }
      const result = await synthesize(synthesisDeps, id, body.data, c.req.header("x-priority"), c.req.raw.signal);
      const wav = wavFromPcm16(floatToPcm16(result.audio), manifest.sample_rate);
      const audioMs = (result.audio.length / manifest.sample_rate) * 1000;
      return c.body(wav as Uint8Array<ArrayBuffer>, 200, {
        "Content-Type": "audio/wav",
        "X-Audio-Duration-Ms": audioMs.toFixed(1),
        "X-Semantic-Tokens": String(result.semanticTokens),
        "X-Segments": String(result.segments),
        "X-Queue-Wait-Ms": result.queueWaitMs.toFixed(1),
        "X-Compute-Ms": result.computeMs.toFixed(1),
        "X-Batch-Size": String(result.maxBatch),
        "X-Real-Time-Factor": audioMs > 0 ? ((result.queueWaitMs + result.computeMs) / audioMs).toFixed(3) : "0",
        "X-Model-Random-Weights": String(manifest.random_weights),
      });
    },
  );
  app.all("/synthesize", () => {
    throw new NodeError("METHOD_NOT_ALLOWED", "use POST /synthesize");
  });

  app.get("/healthz", (c) => {
    const s = deps.engine.stats();
    return c.json(
      {
        status: s.closing ? "draining" : "ok",
        ready: !s.closing,
        queue_depth: s.queued,
        in_flight: s.inFlight,
        gpt_batch: s.gptBatch,
        max_batch: deps.engineOptions.maxBatch,
        free_slots: s.freeSlots,
        queue_capacity: s.queueCapacity,
        tokens_per_second: s.throughputCodesPerSecond,
        memory_reserved_mb: Math.round(s.memoryReservedBytes / 2 ** 20),
        memory_budget_mb:
          deps.engineOptions.memoryBudgetBytes === undefined
            ? null
            : Math.round(deps.engineOptions.memoryBudgetBytes / 2 ** 20),
        random_weights: manifest.random_weights,
      },
      s.closing ? 503 : 200,
    );
  });

  app.get("/info", (c) =>
    c.json({
      model: {
        name: manifest.name,
        size: manifest.size,
        random_weights: manifest.random_weights,
        ...(manifest.random_weights ? { warning: RANDOM_WEIGHTS_NOTICE } : {}),
        semantic_tokens_per_text_token: manifest.semantic_tokens_per_text_token,
        gpt: manifest.gpt,
        s2mel: manifest.s2mel,
        sampling: manifest.sampling,
      },
      audio: { sample_rate: manifest.sample_rate, bits: 16, channels: 1, semantic_tokens_per_second: 50 },
      voices: deps.voices.list().map((v) => ({ id: v.id, name: v.name, description: v.description })),
      emotions: EMOTIONS,
      limits: {
        max_text_chars: manifest.limits.max_text_chars,
        max_segments: manifest.limits.max_segments,
        max_text_tokens_per_segment: manifest.limits.max_text_tokens_per_segment,
        max_tokens: manifest.gpt.max_mel_tokens,
        speed: [SPEED_MIN, SPEED_MAX],
        max_body_bytes: deps.maxBodyBytes,
      },
      batching: {
        max_batch: deps.engineOptions.maxBatch,
        max_queue_delay_ms: deps.engineOptions.maxQueueDelayMs,
        max_pad_ratio: deps.engineOptions.maxPadRatio,
        max_queue: deps.engineOptions.maxQueue,
        reserved_interactive_slots: deps.engineOptions.reservedInteractiveSlots,
        request_timeout_ms: deps.engineOptions.requestTimeoutMs,
      },
      runtime: {
        engine: "onnxruntime-node",
        execution_providers: deps.runtime.executionProviders,
        intra_op_threads: deps.runtime.intraOpThreads,
        inter_op_threads: deps.runtime.interOpThreads,
        intra_op_spinning: deps.runtime.intraOpSpinning,
      },
    }),
  );

  if (deps.serveMetrics !== false) app.get("/metrics", metricsHandler(deps.metrics));

  app.notFound((c) => {
    throw new NodeError("NOT_FOUND", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`);
  });

  app.onError((err, c) => {
    const requestId = c.get("requestId") ?? newId();
    const error = toNodeError(err);
    if (error.code === "INTERNAL") log({ level: "error", request_id: requestId, error: String(err) });
    if (error.status >= 400 && error.status < 500 && error.code !== "CLIENT_CLOSED")
      deps.metrics.rejectedInput(error.code);
    const headers: Record<string, string> = { "X-Request-Id": requestId };
    if (error.retryAfterSeconds !== undefined) headers["Retry-After"] = String(error.retryAfterSeconds);
    return c.json(
      {
        error: {
          code: error.code,
          message: error.message,
          request_id: requestId,
          ...(error.details !== undefined ? { details: error.details } : {}),
        },
      },
      // 499 (client closed) is nginx's convention; nobody reads it, but logs and metrics should tell it apart.
      error.status as ContentfulStatusCode,
      headers,
    );
  });

  return app;
}

async function readJson(c: Context): Promise<unknown> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) {
    throw new NodeError("UNSUPPORTED_MEDIA_TYPE", `Content-Type must be application/json, not "${type || "(none)"}"`);
  }
  const raw = await c.req.text();
  try {
    return JSON.parse(raw);
  } catch {
    throw new NodeError("INVALID_JSON", "the request body is not valid JSON");
  }
}

function toNodeError(err: unknown): NodeError {
  if (isNodeError(err)) return err;
  if (err instanceof HTTPException && err.status === 413) return new NodeError("PAYLOAD_TOO_LARGE", err.message);
  if (err instanceof HTTPException && err.status < 500) return new NodeError("INVALID_REQUEST", err.message);
  return new NodeError("INTERNAL", "internal error");
}

const metricsHandler = (metrics: NodeMetrics) => async (c: Context) => {
  const text = await metrics.registry.metrics();
  return c.text(text, 200, { "Content-Type": metrics.registry.contentType });
};

/** The node's metrics alone, for the internal metrics listener (`--metrics-port`, loopback by default). */
export function createMetricsApp(metrics: NodeMetrics): Hono {
  const app = new Hono();
  app.get("/metrics", metricsHandler(metrics));
  app.notFound((c) => c.json({ error: { code: "NOT_FOUND", message: "only GET /metrics here" } }, 404));
  return app;
}
