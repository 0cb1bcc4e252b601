import type { ProxyErrorCode } from "../../core/errors.ts";
import type { JsonSchema, OpenApiHeader, OpenApiRef } from "./types.ts";

/** The response headers the proxy sends, documented once (`components.headers`) and referred to by responses. */

const header = (description: string, schema: JsonSchema = { type: "string" }): OpenApiHeader => ({
  description,
  schema,
});

/** Response headers, by name. Responses refer to them (`#/components/headers/<name without dashes>`). */
export const HEADERS = {
  "X-Request-Id": header(
    "The request's id (`req_…`), made by the proxy: it is the usage row's key, so a caller cannot choose it. Also in " +
      "every error body as `request_id`. An idempotent replay carries the id of the request it replays.",
  ),
  "X-Client-Request-Id": header(
    "Your `X-Request-Id`, echoed back when it is well-formed (8–128 of `A-Za-z0-9._:-`), to correlate with your logs.",
  ),
  "Retry-After": header("Seconds to wait before retrying (RFC 9110 §10.2.3); at least 1.", {
    type: "integer",
    minimum: 1,
  }),
  "RateLimit-Policy": header(
    'Quota policies (draft-ietf-httpapi-ratelimit-headers-11 §3): the per-IP policy `"ip";q=…;w=…` and, once the ' +
      'key is known, the key\'s plan policy `"key";q=…;w=…`.',
  ),
  RateLimit: header(
    'Remaining quota per policy (draft-ietf-httpapi-ratelimit-headers-11 §4), e.g. `"ip";r=4;t=1, "key";r=9;t=1`.',
  ),
  "X-Tokens": header("Tokens metered for this audio (by default 50 per second of audio).", { type: "integer" }),
  "X-Amount-Micros": header("The charge, in integer micro-units of `X-Currency`.", { type: "integer" }),
  "X-Currency": header("ISO 4217 currency of the plan.", { type: "string", minLength: 3, maxLength: 3 }),
  "X-Price-Multiplier": header(
    "The peak multiplier applied, e.g. `1.5000` in a peak window of a basic plan; `1.0000` off-peak and on batch " +
      "plans (never surcharged; their discount is in `X-Amount-Micros`).",
    {
      type: "string",
      pattern: "^\\d+\\.\\d{4}$",
    },
  ),
  "X-Peak": header("Whether the request fell in a peak window of the plan.", {
    type: "string",
    enum: ["true", "false"],
  }),
  "X-Audio-Duration-Ms": header("Duration of the returned audio as measured by the proxy, in milliseconds.", {
    type: "integer",
  }),
  "X-Model-Random-Weights": header(
    "`true` when the GPU node serves a model with random weights (a test model: the audio is noise). Relayed from " +
      "the node; absent for real weights.",
    { type: "string", enum: ["true"] },
  ),
  "Idempotent-Replayed": header("`true` when this is the stored response of an earlier request with the same key.", {
    type: "string",
    enum: ["true"],
  }),
  Location: header("Where the created resource is, e.g. `/v1/jobs/job_…`."),
  "X-Job-Items": header("How many items' audio the whole-job WAV holds, in item order.", { type: "integer" }),
  "Content-Disposition": header('`attachment; filename="<job id>.wav"`.'),
} satisfies Record<string, OpenApiHeader>;
export type HeaderName = keyof typeof HEADERS;

export const headerComponentName = (name: string): string => name.replaceAll("-", "");

export const headerRefs = (names: readonly HeaderName[]): Record<string, OpenApiRef> =>
  Object.fromEntries(names.map((n) => [n, { $ref: `#/components/headers/${headerComponentName(n)}` }]));

export const RATE_LIMIT_HEADERS: HeaderName[] = ["RateLimit-Policy", "RateLimit"];
export const METERING_HEADERS: HeaderName[] = [
  "X-Tokens",
  "X-Amount-Micros",
  "X-Currency",
  "X-Price-Multiplier",
  "X-Peak",
  "X-Audio-Duration-Ms",
  "X-Model-Random-Weights",
  "Idempotent-Replayed",
];

/** Codes whose responses carry `Retry-After` (see the `retryAfterSeconds` of each `ProxyError` thrown). */
export const RETRY_AFTER_CODES: readonly ProxyErrorCode[] = [
  "RATE_LIMITED",
  "TOO_MANY_IN_FLIGHT",
  "LIMITER_UNAVAILABLE",
  "NO_CAPACITY",
  "IDEMPOTENCY_KEY_IN_USE",
  // while the item or job may still finish (not on failed or cancelled ones)
  "ITEM_NOT_READY",
  "JOB_NOT_COMPLETE",
];
