import { FORMAT_SPECS } from "../../../../../audio/formats.ts";
import type { ProxyErrorCode } from "../../../core/errors.ts";
import { EMOTION_LABELS } from "../../schemas.ts";
import { METERING_HEADERS } from "../headers.ts";
import { type DocumentLimits, json, type OperationSpec } from "../spec.ts";

/** POST /v1/tts and POST /v1/audio/speech: metered synthesis. */

const SPEECH_ERRORS: ProxyErrorCode[] = [
  "EMPTY_TEXT",
  "TEXT_TOO_LONG",
  "UNKNOWN_VOICE",
  "UNKNOWN_EMOTION",
  "IDEMPOTENCY_KEY_IN_USE",
  "IDEMPOTENCY_KEY_REUSED",
  "UPSTREAM_FAILED",
  "UPSTREAM_INVALID_RESPONSE",
  "NO_CAPACITY",
  "UPSTREAM_TIMEOUT",
];

const audioResponse = (what: string): OperationSpec["ok"] => ({
  status: 200,
  description:
    `${what} The audio was measured, metered and durably recorded in the usage ledger before this response ` +
    "was sent; the metering headers say what was charged.",
  content: Object.fromEntries(
    [...new Set(Object.values(FORMAT_SPECS).map((f) => f.contentType)), "text/event-stream"].map((type) => [
      type,
      { schema: { type: "string", contentMediaType: type } },
    ]),
  ),
  headers: METERING_HEADERS,
});

export function speechOperations(limits: DocumentLimits): OperationSpec[] {
  return [
    {
      method: "post",
      path: "/v1/tts",
      operationId: "synthesize",
      tag: "Speech",
      summary: "Synthesize speech (native API)",
      description:
        `Text (at most ${limits.maxTextChars} characters, counted as Unicode code points) to audio: ` +
        "`response_format` mp3, opus (Ogg), aac (ADTS), flac, wav (the default here) or pcm (24 kHz s16le). " +
        "`stream_format` `audio` or `sse` streams it as it is made. `voice` is a voice id or name " +
        `from \`GET /v1/voices\`; \`emotion\` is one of ${EMOTION_LABELS.map((e) => `\`${e}\``).join(", ")}, or give ` +
        "`emotion_vector` (8 weights in that order). Batch-plan keys are queued at batch priority.",
      access: "customer",
      body: "TtsRequest",
      idempotencyKey: true,
      ok: audioResponse("The synthesized audio."),
      errors: [...SPEECH_ERRORS, "UNSUPPORTED_FORMAT"],
    },
    {
      method: "post",
      path: "/v1/audio/speech",
      operationId: "createSpeech",
      tag: "Speech",
      summary: "Synthesize speech (OpenAI-compatible)",
      description:
        "Accepts OpenAI's `POST /v1/audio/speech` body. `voice` is a deployment voice name or one of OpenAI's " +
        "(alloy, ash, ballad, coral, echo, fable, onyx, nova, sage, shimmer, verse, marin, cedar), mapped to the " +
        "deployment's voices; names match case-insensitively. An emotion word in `instructions` " +
        '("speak in a happy tone") selects that emotion. `response_format` defaults to mp3; `speed` 0.25–4; ' +
        `\`input\` at most ${limits.maxTextChars} characters. \`stream_format\`: \`audio\` (chunked as made) or ` +
        "`sse` (`speech.audio.delta` events, then `speech.audio.done` with usage); without it the answer is whole, " +
        "with the metering headers.",
      access: "customer",
      body: "OpenAiSpeechRequest",
      idempotencyKey: true,
      ok: audioResponse("The synthesized audio."),
      errors: [...SPEECH_ERRORS, "UNSUPPORTED_FORMAT"],
    },
    {
      method: "get",
      path: "/v1/models",
      operationId: "listModels",
      tag: "Speech",
      summary: "The model ids OpenAI clients may send (OpenAI's list shape)",
      access: "customer",
      ok: {
        status: 200,
        description: '`{"object":"list","data":[{"id","object":"model","created","owned_by"}]}`',
        content: json({ type: "object" }),
      },
    },
  ];
}
