import type { ProxyErrorCode } from "../../../core/errors.ts";
import { EMOTION_LABELS } from "../../schemas.ts";
import { METERING_HEADERS } from "../headers.ts";
import type { DocumentLimits, OperationSpec } from "../spec.ts";

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
  content: { "audio/wav": { schema: { type: "string", contentMediaType: "audio/wav" } } },
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
        `Text (at most ${limits.maxTextChars} characters) to a 16-bit PCM WAV. \`voice\` is a voice id or name ` +
        `from \`GET /v1/voices\`; \`emotion\` is one of ${EMOTION_LABELS.map((e) => `\`${e}\``).join(", ")}, or give ` +
        "`emotion_vector` (8 weights in that order). Batch-plan keys are queued at batch priority.",
      access: "customer",
      body: "TtsRequest",
      idempotencyKey: true,
      ok: audioResponse("The synthesized audio."),
      errors: SPEECH_ERRORS,
    },
    {
      method: "post",
      path: "/v1/audio/speech",
      operationId: "createSpeech",
      tag: "Speech",
      summary: "Synthesize speech (OpenAI-compatible)",
      description:
        "Accepts OpenAI's `POST /v1/audio/speech` body. `voice` is a voice name; an emotion word in `instructions` " +
        '("speak in a happy tone") selects that emotion. Only `response_format: "wav"` is offered.',
      access: "customer",
      body: "OpenAiSpeechRequest",
      idempotencyKey: true,
      ok: audioResponse("The synthesized audio."),
      errors: [...SPEECH_ERRORS, "UNSUPPORTED_FORMAT"],
    },
  ];
}
