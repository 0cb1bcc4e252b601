import type { Context, Hono } from "hono";
import { type AudioFormat, FORMAT_SPECS, isAudioFormat } from "../../../../audio/formats.ts";
import { pcm16FromBytes } from "../../../../audio/pcm.ts";
import { ProxyError } from "../../core/errors.ts";
import { checkTextLength } from "../../core/text/length.ts";
import { isSpeakable, UNSPEAKABLE_MESSAGE } from "../../core/text/speakable.ts";
import { DEFAULT_IDEMPOTENCY_STALE_AFTER_MS } from "../../store/ports.ts";
import { meterAndRecord } from "../../synthesis/meter.ts";
import { forwardPieces } from "../../synthesis/pieces.ts";
import { resolveVoice } from "../../synthesis/voices.ts";
import type { SpeechRequest } from "../../upstream/adapters.ts";
import type { ProxyDeps, ProxyEnv } from "../deps.ts";
import { idempotencyConflict, idempotencyKeyOf, requestFingerprint } from "../idempotency.ts";
import { readJson } from "../read-json.ts";
import { requestSource } from "../request-source.ts";
import { takeResponseHeaders } from "../response-headers.ts";
import { EMOTION_LABELS, openAiSpeechSchema, ttsBodySchema } from "../schemas.ts";
import { streamSpeech } from "./speech-stream.ts";

const SPEECH_MODELS = ["indextts2", "tts-1", "tts-1-hd", "gpt-4o-mini-tts"] as const;
/** 2025-09-08, when IndexTTS2's weights were published: a fixed `created` for a stable listing */
const MODELS_CREATED = 1_757_289_600;

interface Speech {
  text: string;
  voice: number | string;
  emotion?: string | undefined;
  emotionVector?: number[] | undefined;
  emotionAlpha?: number | undefined;
  speed: number;
  seed?: number | undefined;
  format: string;
  streamFormat: "audio" | "sse" | undefined;
  /** the field the text came in, for errors ("text" natively, OpenAI's "input") */
  textField: string;
}

/** POST /v1/tts and POST /v1/audio/speech: authenticate, route, verify the audio, meter it durably, answer. */
export function registerSpeechRoutes(app: Hono<ProxyEnv>, deps: ProxyDeps): void {
  app.post("/v1/tts", async (c) => {
    const body = await readJson(c, ttsBodySchema, deps.config.maxBodyBytes);
    return synthesizeAndBill(c, deps, {
      text: body.text,
      voice: body.voice,
      emotion: body.emotion,
      emotionVector: body.emotion_vector,
      emotionAlpha: body.emotion_alpha,
      speed: body.speed,
      seed: body.seed,
      format: body.response_format.toLowerCase(),
      streamFormat: body.stream_format,
      textField: "text",
    });
  });

  // The model ids OpenAI's speech clients send; every one is served by the deployment's IndexTTS2.
  app.get("/v1/models", (c) =>
    c.json({
      object: "list",
      data: SPEECH_MODELS.map((id) => ({ id, object: "model", created: MODELS_CREATED, owned_by: "indextts2" })),
    }),
  );

  app.post("/v1/audio/speech", async (c) => {
    const body = await readJson(c, openAiSpeechSchema, deps.config.maxBodyBytes);
    const emotion = EMOTION_LABELS.find((e) => new RegExp(`\\b${e}\\b`, "i").test(body.instructions ?? ""));
    return synthesizeAndBill(c, deps, {
      text: body.input,
      voice: body.voice,
      emotion,
      speed: body.speed,
      format: body.response_format.toLowerCase(),
      streamFormat: body.stream_format,
      textField: "input",
    });
  });
}

async function synthesizeAndBill(c: Context<ProxyEnv>, deps: ProxyDeps, speech: Speech): Promise<Response> {
  const now = deps.now ?? Date.now;
  const auth = c.get("auth");
  const at = c.get("startedAt");
  const text = speech.text.trim();
  if (!text || !isSpeakable(text)) throw new ProxyError("EMPTY_TEXT", UNSPEAKABLE_MESSAGE);
  checkTextLength(speech.text, speech.textField, deps.config.maxTextChars);
  const codecs = deps.audio;
  const format = speech.format;
  if (!isAudioFormat(format) || !codecs.formats.includes(format)) {
    throw new ProxyError(
      "UNSUPPORTED_FORMAT",
      `response_format "${format}" is not offered here; use one of ${codecs.formats.join(", ")}`,
      { details: { param: "response_format" } },
    );
  }
  if (speech.emotion !== undefined && !(EMOTION_LABELS as readonly string[]).includes(speech.emotion)) {
    throw new ProxyError("UNKNOWN_EMOTION", `emotion "${speech.emotion}" is not one of ${EMOTION_LABELS.join(", ")}`);
  }
  const voices = deps.voices();
  const voice = resolveVoice(voices, speech.voice, deps.config.openAiVoiceMap);
  if (!voice) {
    throw new ProxyError("UNKNOWN_VOICE", `voice ${JSON.stringify(speech.voice)} does not exist; see GET /v1/voices`);
  }

  let requestId = c.get("requestId");
  const idempotencyKey = idempotencyKeyOf(c);
  const priority = auth.plan.kind === "batch" ? "batch" : "interactive";
  const forwardDeps = {
    balancer: deps.balancer,
    transport: deps.transport,
    adapter: deps.adapter,
    now,
    maxResponseBytes: deps.config.maxResponseBytes,
    noCapacityRetryAfterSeconds: deps.config.noCapacityRetryAfterSeconds,
  };
  const nodeRequest = (id: string): SpeechRequest => ({
    requestId: id,
    text: speech.text,
    voice: voice.id,
    emotion: speech.emotion,
    emotionVector: speech.emotionVector,
    emotionAlpha: speech.emotionAlpha,
    speed: speech.speed,
    seed: speech.seed,
    priority,
    deadlineMs: deps.config.requestTimeoutMs,
  });
  if (speech.streamFormat !== undefined) {
    if (idempotencyKey !== undefined) {
      // A stream cannot be replayed: its pieces were billed as they went out.
      throw new ProxyError("INVALID_REQUEST", "Idempotency-Key cannot be used with stream_format", {
        details: { param: "stream_format" },
      });
    }
    return streamSpeech(c, deps, forwardDeps, {
      req: nodeRequest(requestId),
      auth,
      at,
      pool: auth.customer.dedicatedPool ?? "shared",
      deadlineAt: at + deps.config.requestTimeoutMs,
      format,
      streamFormat: speech.streamFormat,
    });
  }
  if (idempotencyKey !== undefined) {
    const begun = await deps.stores.idempotency.begin({
      customerId: auth.customer.id,
      key: idempotencyKey,
      requestId,
      ttlMs: deps.config.idempotencyTtlMs,
      // The request as understood (the voice by id), as for jobs: a retry naming the voice another way matches.
      fingerprint: await requestFingerprint(deps, c, { ...speech, voice: voice.id, textField: undefined }),
      staleAfterMs: DEFAULT_IDEMPOTENCY_STALE_AFTER_MS,
    });
    if (begun.state === "done") {
      return new Response(begun.response.body as Uint8Array<ArrayBuffer>, {
        status: begun.response.status,
        headers: takeResponseHeaders(c, {
          ...begun.response.headers,
          "content-type": begun.response.contentType,
          "idempotent-replayed": "true",
        }),
      });
    }
    if (begun.state !== "new") throw idempotencyConflict(begun.state);
    requestId = begun.requestId;
  }

  try {
    const forwarded = await forwardPieces(
      forwardDeps,
      nodeRequest(requestId),
      auth.customer.dedicatedPool ?? "shared",
      at + deps.config.requestTimeoutMs,
      c.req.raw.signal,
      deps.config.pieceMaxChars,
    );
    // Encoded and checked before metering: an answer whose container disagrees with the PCM is never billed.
    const pcm = pcm16FromBytes(forwarded.pcm);
    const audio = await codecs.encode(format, pcm, forwarded.wav.sampleRate);
    const verdict = await codecs.verify(format, audio, forwarded.wav.durationMs, forwarded.wav.sampleRate);
    if (!verdict.ok)
      throw new ProxyError("INTERNAL", `the ${format} encoding failed its duration check: ${verdict.reason}`);
    // Durable before released: the row is committed (group commit) before the audio leaves.
    const { event } = await meterAndRecord(
      { plans: deps.stores.plans, ledger: deps.ledger, tokensPerSecond: deps.config.tokensPerSecond },
      {
        requestId,
        auth,
        at,
        wav: forwarded.wav,
        inputChars: [...speech.text].length,
        nodeId: forwarded.nodeId,
        priority,
        source: requestSource(c.req.raw),
      },
    );
    deps.metrics.metered(event.tokens, event.amountMicros, event.currency);
    c.set("usage", event);
    const headers: Record<string, string> = {
      "x-request-id": requestId,
      "x-audio-duration-ms": String(event.audioMs),
      "x-tokens": String(event.tokens),
      "x-amount-micros": String(event.amountMicros),
      "x-currency": event.currency,
      "x-price-multiplier": (event.multiplierBp / 10_000).toFixed(4),
      "x-peak": String(event.peak),
    };
    // A node serving a random-weight model says so on every answer; so does the proxy (its audio is noise).
    const randomWeights = forwarded.headers["x-model-random-weights"];
    if (randomWeights !== undefined) headers["x-model-random-weights"] = randomWeights;
    const answer = { body: audio, contentType: contentTypeOf(format) };
    if (idempotencyKey !== undefined) {
      await deps.stores.idempotency.complete(auth.customer.id, idempotencyKey, requestId, {
        status: 200,
        body: answer.body,
        contentType: answer.contentType,
        headers,
      });
    }
    return new Response(answer.body as Uint8Array<ArrayBuffer>, {
      status: 200,
      headers: takeResponseHeaders(c, { ...headers, "content-type": answer.contentType }),
    });
  } catch (error) {
    // Nothing was charged (metering is the last step): let a retry with the same key run again.
    if (idempotencyKey !== undefined) await deps.stores.idempotency.fail(auth.customer.id, idempotencyKey, requestId);
    throw error;
  }
}

const contentTypeOf = (format: AudioFormat): string => FORMAT_SPECS[format].contentType;
