import { z } from "zod";
import { PROXY_ERROR_STATUS, type ProxyErrorCode } from "../core/errors.ts";
import type { ProxyConfig } from "./deps.ts";
import {
  customerBodySchema,
  EMOTION_LABELS,
  nodeBodySchema,
  openAiSpeechSchema,
  planBodySchema,
  priceVersionBodySchema,
  ttsBodySchema,
} from "./schemas.ts";

/**
 * The proxy's OpenAPI 3.1 document, built from the same zod schemas the handlers validate with (`./schemas.ts`),
 * through zod 4's `z.toJSONSchema`. OpenAPI 3.1 schemas are JSON Schema 2020-12, which is what zod emits, so request
 * bodies appear exactly as the handlers accept them (the `input` side: a field with a default is optional).
 *
 * Error responses are derived from `PROXY_ERROR_STATUS`: an operation lists the error codes it can produce and the
 * statuses follow from them, so the document cannot disagree with the status a code is rendered with.
 */

export type JsonSchema = { [keyword: string]: unknown };

export interface OpenApiHeader {
  description: string;
  schema: JsonSchema;
}

export interface OpenApiRef {
  $ref: string;
}

export interface OpenApiParameter {
  name: string;
  in: "path" | "query" | "header";
  required: boolean;
  description?: string;
  schema: JsonSchema;
}

export interface OpenApiMediaType {
  schema: JsonSchema;
  example?: unknown;
}

export interface OpenApiResponse {
  description: string;
  headers?: Record<string, OpenApiRef>;
  content?: Record<string, OpenApiMediaType>;
  /** the error codes this response carries (a vendor extension the HTML reference renders) */
  "x-error-codes"?: ProxyErrorCode[];
}

export interface OpenApiOperation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  security: Record<string, string[]>[];
  parameters?: OpenApiParameter[];
  requestBody?: { required: boolean; description?: string; content: Record<string, OpenApiMediaType> };
  responses: Record<string, OpenApiResponse>;
}

export type HttpMethod = "get" | "post" | "put" | "delete";

export interface OpenApiDocument {
  openapi: "3.1.0";
  jsonSchemaDialect: string;
  info: { title: string; version: string; description: string };
  tags: { name: string; description: string }[];
  paths: Record<string, Partial<Record<HttpMethod, OpenApiOperation>>>;
  components: {
    schemas: Record<string, JsonSchema>;
    headers: Record<string, OpenApiHeader>;
    securitySchemes: Record<string, Record<string, string>>;
  };
}

/** JSON Schema 2020-12 of a zod schema, without `$schema` (the document's `jsonSchemaDialect` states it once). */
export function jsonSchemaOf(schema: z.ZodType, io: "input" | "output" = "input"): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io }) as JsonSchema;
  return rest;
}

// ─── schemas ────────────────────────────────────────────────────────────────────────────────────────────────────────

/** The request bodies, by component name: exactly the schemas the handlers pass to `readJson`. */
export const REQUEST_BODY_SCHEMAS = {
  TtsRequest: ttsBodySchema,
  OpenAiSpeechRequest: openAiSpeechSchema,
  CustomerRequest: customerBodySchema,
  PlanRequest: planBodySchema,
  PriceVersionRequest: priceVersionBodySchema,
  NodeRequest: nodeBodySchema,
} as const;
type RequestBodyName = keyof typeof REQUEST_BODY_SCHEMAS;

/*
 * Still declared inline in routes/account.ts and routes/admin.ts (not exported from schemas.ts), so mirrored here.
 * TODO: move `usageQuery`, the admin usage query and the suspend body into schemas.ts and import them here and in
 * the routes, so these three mirrors disappear.
 */
const customerUsageQuery = z.object({
  from: z.coerce.number().int().nonnegative().optional(),
  to: z.coerce.number().int().positive().optional(),
});
const adminUsageQuery = z.object({
  from: z.coerce.number().int().nonnegative().default(0),
  to: z.coerce.number().int().positive().optional(),
});
const suspendBody = z.object({ reason: z.string().min(1).default("suspended by an administrator") });

export const ERROR_CODES = Object.keys(PROXY_ERROR_STATUS) as [ProxyErrorCode, ...ProxyErrorCode[]];

/** The one error envelope every failure is rendered with (`onError` in app.ts). */
export const errorEnvelopeSchema = z.object({
  error: z.object({
    code: z.enum(ERROR_CODES),
    message: z.string(),
    request_id: z.string(),
    /** e.g. the zod issues of an INVALID_REQUEST body */
    details: z.unknown().optional(),
  }),
});

const nullableString = z.string().nullable();
const epochMs = z.number().int();
const record = z.looseObject;

/**
 * What successful responses contain (documentation: the handlers return store records, which have no zod schema of
 * their own). Records are loose objects: fields may be added. The in-process tests parse real responses with these.
 */
export const RESPONSE_SCHEMAS = {
  Health: z.object({
    status: z.literal("ok"),
    nodes: z.number().int().nonnegative(),
    routable_nodes: z.number().int().nonnegative(),
  }),
  Voices: z.object({
    voices: z.array(z.object({ id: z.number().int().nonnegative(), name: z.string(), description: z.string() })),
  }),
  CustomerUsage: z.object({
    customer_id: z.string(),
    plan: z.string(),
    time_zone: z.string(),
    from: epochMs,
    to: epochMs,
    days: z.array(
      z.object({
        day: z.string(),
        peak: z.boolean(),
        requests: z.number().int(),
        tokens: z.number().int(),
        audio_ms: z.number().int(),
        amount_micros: z.number().int(),
        currency: z.string(),
      }),
    ),
    totals: z.array(
      z.object({
        currency: z.string(),
        requests: z.number().int(),
        tokens: z.number().int(),
        peak_tokens: z.number().int(),
        audio_ms: z.number().int(),
        amount_micros: z.number().int(),
      }),
    ),
  }),
  Customer: record({
    id: z.string(),
    name: z.string(),
    email: z.string(),
    planId: z.string(),
    status: z.enum(["active", "suspended"]),
    suspendedReason: nullableString,
    dedicatedPool: nullableString,
    createdAt: epochMs,
  }),
  ApiKey: record({
    id: z.string(),
    customerId: z.string(),
    prefix: z.string(),
    name: nullableString,
    createdAt: epochMs,
    revokedAt: epochMs.nullable(),
    lastUsedAt: epochMs.nullable(),
  }),
  IssuedKey: z.object({
    id: z.string(),
    /** shown once: only its SHA-256 is stored */
    key: z.string(),
    prefix: z.string(),
  }),
  Plan: record({
    id: z.string(),
    kind: z.enum(["basic", "batch", "enterprise"]),
    name: z.string(),
    currency: z.string(),
    timeZone: z.string(),
    requestsPerSecond: z.number(),
    burst: z.number().int(),
    maxInFlight: z.number().int(),
  }),
  PriceVersion: record({
    id: z.string(),
    planId: z.string(),
    version: z.number().int().positive(),
    effectiveFrom: epochMs,
    unitPriceMicrosPer1kTokens: z.number().int(),
    peakWindows: z.array(z.object({ days: z.array(z.number().int()), start: z.string(), end: z.string() })),
    peakMultiplierBp: z.number().int(),
    batchDiscountBp: z.number().int(),
    monthlyFeeMicros: z.number().int(),
    includedTokens: z.number().int(),
    overagePriceMicrosPer1kTokens: z.number().int().nullable(),
  }),
  Node: record({
    id: z.string(),
    url: z.string(),
    pool: z.string(),
    weight: z.number().int(),
    state: z.enum(["active", "draining", "removed"]),
    createdAt: epochMs,
  }),
  UsageTotals: z.object({
    currency: z.string(),
    events: z.number().int(),
    tokens: z.number().int(),
    peakTokens: z.number().int(),
    audioMs: z.number().int(),
    inputChars: z.number().int(),
    amountMicros: z.number().int(),
  }),
} as const;
type ResponseSchemaName = keyof typeof RESPONSE_SCHEMAS;

const ref = (name: RequestBodyName | ResponseSchemaName | "Error"): JsonSchema => ({
  $ref: `#/components/schemas/${name}`,
});
const obj = (properties: Record<string, JsonSchema>, description?: string): JsonSchema => ({
  type: "object",
  properties,
  required: Object.keys(properties),
  ...(description ? { description } : {}),
});
const arrayOf = (items: JsonSchema): JsonSchema => ({ type: "array", items });

// ─── headers ────────────────────────────────────────────────────────────────────────────────────────────────────────

const header = (description: string, schema: JsonSchema = { type: "string" }): OpenApiHeader => ({
  description,
  schema,
});

/** Response headers, by name. Responses refer to them (`#/components/headers/<name without dashes>`). */
const HEADERS = {
  "X-Request-Id": header(
    "The request's id: the caller's `X-Request-Id` when well-formed (8–128 of `A-Za-z0-9._:-`), else a new `req_…`. " +
      "Also in every error body as `request_id`. An idempotent replay carries the id of the request it replays.",
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
    'Remaining quota per policy (draft-ietf-httpapi-ratelimit-headers-11 §4), e.g. `"key";r=9;t=1, "ip";r=4;t=1`.',
  ),
  "X-Tokens": header("Tokens metered for this audio (by default 50 per second of audio).", { type: "integer" }),
  "X-Amount-Micros": header("The charge, in integer micro-units of `X-Currency`.", { type: "integer" }),
  "X-Currency": header("ISO 4217 currency of the plan.", { type: "string", minLength: 3, maxLength: 3 }),
  "X-Price-Multiplier": header("The price multiplier applied (peak surcharge, batch discount), e.g. `1.5000`.", {
    type: "string",
    pattern: "^\\d+\\.\\d{4}$",
  }),
  "X-Peak": header("Whether the request fell in a peak window of the plan.", {
    type: "string",
    enum: ["true", "false"],
  }),
  "X-Audio-Duration-Ms": header("Duration of the returned audio as measured by the proxy, in milliseconds.", {
    type: "integer",
  }),
  "Idempotent-Replayed": header("`true` when this is the stored response of an earlier request with the same key.", {
    type: "string",
    enum: ["true"],
  }),
} satisfies Record<string, OpenApiHeader>;
type HeaderName = keyof typeof HEADERS;

export const headerComponentName = (name: string): string => name.replaceAll("-", "");

const headerRefs = (names: readonly HeaderName[]): Record<string, OpenApiRef> =>
  Object.fromEntries(names.map((n) => [n, { $ref: `#/components/headers/${headerComponentName(n)}` }]));

const RATE_LIMIT_HEADERS: HeaderName[] = ["RateLimit-Policy", "RateLimit"];
const METERING_HEADERS: HeaderName[] = [
  "X-Tokens",
  "X-Amount-Micros",
  "X-Currency",
  "X-Price-Multiplier",
  "X-Peak",
  "X-Audio-Duration-Ms",
  "Idempotent-Replayed",
];

/** Codes whose responses carry `Retry-After` (see the `retryAfterSeconds` of each `ProxyError` thrown). */
const RETRY_AFTER_CODES: readonly ProxyErrorCode[] = [
  "RATE_LIMITED",
  "TOO_MANY_IN_FLIGHT",
  "NO_CAPACITY",
  "IDEMPOTENCY_KEY_IN_USE",
];

// ─── operations ─────────────────────────────────────────────────────────────────────────────────────────────────────

type Access = "public" | "customer" | "admin";

interface OperationSpec {
  method: HttpMethod;
  /** OpenAPI path template (`{id}`) */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  access: Access;
  /** a JSON body read with `readJson` (415, 400 INVALID_JSON / INVALID_REQUEST) */
  body?: RequestBodyName;
  /** any other body, documented as is */
  otherBody?: { required: boolean; description: string; schema: JsonSchema };
  query?: z.ZodObject;
  idempotencyKey?: boolean;
  ok: {
    status: number;
    description: string;
    content: Record<string, OpenApiMediaType>;
    headers?: HeaderName[];
  };
  /** error codes beyond those implied by `access` and `body` */
  errors?: ProxyErrorCode[];
}

const json = (schema: JsonSchema): Record<string, OpenApiMediaType> => ({ "application/json": { schema } });

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

function operations(limits: DocumentLimits): OperationSpec[] {
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
    {
      method: "get",
      path: "/v1/voices",
      operationId: "listVoices",
      tag: "Account",
      summary: "List the voices",
      access: "customer",
      ok: { status: 200, description: "The voices the GPU nodes offer.", content: json(ref("Voices")) },
    },
    {
      method: "get",
      path: "/v1/usage",
      operationId: "getOwnUsage",
      tag: "Account",
      summary: "The caller's own usage by day",
      description:
        "Usage of the key's customer per local day (plan time zone), peak and off-peak apart, and totals per " +
        "currency. Defaults to the last 31 days.",
      access: "customer",
      query: customerUsageQuery,
      ok: { status: 200, description: "Usage in `[from, to)`.", content: json(ref("CustomerUsage")) },
      errors: ["INVALID_REQUEST"],
    },

    {
      method: "post",
      path: "/admin/customers",
      operationId: "createCustomer",
      tag: "Admin: customers",
      summary: "Create a customer",
      description: "`dedicated_pool` routes every request of the customer to the nodes of that pool only (enterprise).",
      access: "admin",
      body: "CustomerRequest",
      ok: { status: 201, description: "The new customer.", content: json(obj({ customer: ref("Customer") })) },
      errors: ["CONFLICT"],
    },
    {
      method: "get",
      path: "/admin/customers",
      operationId: "listCustomers",
      tag: "Admin: customers",
      summary: "List customers",
      access: "admin",
      ok: { status: 200, description: "All customers.", content: json(obj({ customers: arrayOf(ref("Customer")) })) },
    },
    {
      method: "get",
      path: "/admin/customers/{id}",
      operationId: "getCustomer",
      tag: "Admin: customers",
      summary: "A customer and its keys",
      access: "admin",
      ok: {
        status: 200,
        description: "The customer and its API keys (never the keys themselves).",
        content: json(obj({ customer: ref("Customer"), keys: arrayOf(ref("ApiKey")) })),
      },
      errors: ["NOT_FOUND"],
    },
    {
      method: "post",
      path: "/admin/customers/{id}/suspend",
      operationId: "suspendCustomer",
      tag: "Admin: customers",
      summary: "Suspend a customer",
      description: "Every key of the customer answers 403 `CUSTOMER_SUSPENDED` until it is restored.",
      access: "admin",
      otherBody: {
        required: false,
        description: "Optional; read as JSON whatever its content type, and ignored when it is not JSON.",
        schema: jsonSchemaOf(suspendBody),
      },
      ok: { status: 200, description: "The suspended customer.", content: json(obj({ customer: ref("Customer") })) },
      errors: ["NOT_FOUND"],
    },
    {
      method: "post",
      path: "/admin/customers/{id}/restore",
      operationId: "restoreCustomer",
      tag: "Admin: customers",
      summary: "Restore a suspended customer",
      access: "admin",
      ok: { status: 200, description: "The restored customer.", content: json(obj({ customer: ref("Customer") })) },
      errors: ["NOT_FOUND"],
    },
    {
      method: "post",
      path: "/admin/customers/{id}/keys",
      operationId: "issueKey",
      tag: "Admin: customers",
      summary: "Issue an API key",
      description: "The plaintext key is in this response only: the proxy stores its SHA-256.",
      access: "admin",
      ok: { status: 201, description: "The new key.", content: json(ref("IssuedKey")) },
      errors: ["NOT_FOUND"],
    },
    {
      method: "delete",
      path: "/admin/keys/{id}",
      operationId: "revokeKey",
      tag: "Admin: customers",
      summary: "Revoke an API key",
      access: "admin",
      ok: { status: 200, description: "The revoked key.", content: json(obj({ key: ref("ApiKey") })) },
      errors: ["NOT_FOUND"],
    },

    {
      method: "put",
      path: "/admin/plans/{id}",
      operationId: "upsertPlan",
      tag: "Admin: plans",
      summary: "Create or update a plan",
      description: "Name, limits, currency and time zone. Prices are versioned separately.",
      access: "admin",
      body: "PlanRequest",
      ok: { status: 200, description: "The plan.", content: json(obj({ plan: ref("Plan") })) },
    },
    {
      method: "get",
      path: "/admin/plans",
      operationId: "listPlans",
      tag: "Admin: plans",
      summary: "List plans",
      access: "admin",
      ok: { status: 200, description: "All plans.", content: json(obj({ plans: arrayOf(ref("Plan")) })) },
    },
    {
      method: "get",
      path: "/admin/plans/{id}/prices",
      operationId: "listPriceVersions",
      tag: "Admin: plans",
      summary: "List a plan's price versions",
      access: "admin",
      ok: {
        status: 200,
        description: "The plan's price versions, ascending (empty for an unknown plan).",
        content: json(obj({ versions: arrayOf(ref("PriceVersion")) })),
      },
    },
    {
      method: "post",
      path: "/admin/plans/{id}/prices",
      operationId: "addPriceVersion",
      tag: "Admin: plans",
      summary: "Add a price version",
      description:
        "Takes effect at `effective_from` (now when omitted), which may not be in the past nor before the latest " +
        "version's: usage already rated keeps its price.",
      access: "admin",
      body: "PriceVersionRequest",
      ok: { status: 201, description: "The new version.", content: json(obj({ version: ref("PriceVersion") })) },
      errors: ["NOT_FOUND"],
    },

    {
      method: "post",
      path: "/admin/nodes",
      operationId: "addNode",
      tag: "Admin: nodes",
      summary: "Add a GPU node",
      description:
        "A node of pool `shared` serves every customer without a dedicated pool; any other pool serves only the " +
        "customers whose `dedicated_pool` names it.",
      access: "admin",
      body: "NodeRequest",
      ok: { status: 201, description: "The node.", content: json(obj({ node: ref("Node") })) },
      errors: ["CONFLICT"],
    },
    {
      method: "get",
      path: "/admin/nodes",
      operationId: "listNodes",
      tag: "Admin: nodes",
      summary: "List GPU nodes with their live state and breaker",
      access: "admin",
      ok: {
        status: 200,
        description: "Registered nodes, with the proxy's live view (`live`) and circuit breaker (`breaker`), or null.",
        content: json(
          obj({
            nodes: arrayOf({
              allOf: [ref("Node")],
              properties: {
                live: { type: ["object", "null"], description: "load and health as this proxy sees them" },
                breaker: { type: ["object", "null"], description: "the node's circuit breaker" },
              },
            }),
          }),
        ),
      },
    },
    {
      method: "post",
      path: "/admin/nodes/{id}/drain",
      operationId: "drainNode",
      tag: "Admin: nodes",
      summary: "Drain a GPU node",
      description: "The node finishes the requests it has; no new request is routed to it.",
      access: "admin",
      ok: { status: 200, description: "The draining node.", content: json(obj({ node: ref("Node") })) },
      errors: ["NOT_FOUND"],
    },
    {
      method: "delete",
      path: "/admin/nodes/{id}",
      operationId: "removeNode",
      tag: "Admin: nodes",
      summary: "Remove a GPU node",
      access: "admin",
      ok: { status: 200, description: "The node's id.", content: json(obj({ removed: { type: "string" } })) },
      errors: ["NOT_FOUND"],
    },

    {
      method: "get",
      path: "/admin/usage",
      operationId: "getUsageTotals",
      tag: "Admin: usage",
      summary: "Usage totals of all customers",
      access: "admin",
      query: adminUsageQuery,
      ok: {
        status: 200,
        description: "One row per currency in `[from, to)`.",
        content: json(obj({ totals: arrayOf(ref("UsageTotals")) })),
      },
      errors: ["INVALID_REQUEST"],
    },

    {
      method: "get",
      path: "/healthz",
      operationId: "health",
      tag: "Operations",
      summary: "Liveness and routable nodes",
      access: "public",
      ok: { status: 200, description: "The proxy is up.", content: json(ref("Health")) },
    },
    {
      method: "get",
      path: "/metrics",
      operationId: "metrics",
      tag: "Operations",
      summary: "Prometheus metrics",
      access: "public",
      ok: {
        status: 200,
        description: "Prometheus text exposition format.",
        content: { "text/plain": { schema: { type: "string" } } },
      },
    },
    {
      method: "get",
      path: "/openapi.json",
      operationId: "openApiDocument",
      tag: "Documentation",
      summary: "This OpenAPI 3.1 document",
      access: "public",
      ok: {
        status: 200,
        description: "The document.",
        content: json({ type: "object", description: "an OpenAPI 3.1 document" }),
      },
    },
    {
      method: "get",
      path: "/docs",
      operationId: "apiReference",
      tag: "Documentation",
      summary: "The API reference as HTML",
      access: "public",
      ok: {
        status: 200,
        description: "A self-contained HTML page rendered from this document.",
        content: { "text/html": { schema: { type: "string" } } },
      },
    },
  ];
}

const SECURITY: Record<Access, Record<string, string[]>[]> = {
  public: [],
  customer: [{ apiKeyBearer: [] }, { apiKeyHeader: [] }],
  admin: [{ adminToken: [] }],
};

/** The codes a request can fail with before its handler runs, and the generic one. */
function impliedErrors(spec: OperationSpec): ProxyErrorCode[] {
  const codes: ProxyErrorCode[] = [];
  const hasBodyLimit = spec.method === "post" || spec.method === "put";
  if (spec.access === "customer") {
    codes.push("RATE_LIMITED", "MISSING_API_KEY", "INVALID_API_KEY", "CUSTOMER_SUSPENDED", "TOO_MANY_IN_FLIGHT");
  }
  if (spec.access === "admin") codes.push("ADMIN_TOKEN_REQUIRED");
  if (spec.access !== "public" && hasBodyLimit) codes.push("PAYLOAD_TOO_LARGE");
  if (spec.body) codes.push("UNSUPPORTED_MEDIA_TYPE", "INVALID_JSON", "INVALID_REQUEST");
  codes.push("INTERNAL");
  return codes;
}

const ERROR_DESCRIPTIONS: Partial<Record<number, string>> = {
  400: "The request is invalid.",
  401: "No valid credentials.",
  403: "The credentials are valid but not allowed.",
  404: "Not found.",
  409: "Conflict with the current state.",
  413: "The request body is too large.",
  415: "The request body is not JSON.",
  422: "The Idempotency-Key was used with another request.",
  429: "Over a rate limit: retry after `Retry-After` seconds.",
  500: "An internal error.",
  502: "A GPU node failed or sent audio that did not verify. Nothing was charged.",
  503: "No GPU node of the customer's pool can take the request now: retry after `Retry-After` seconds.",
  504: "The GPU node did not answer before the deadline. Nothing was charged.",
};

function errorResponses(codes: readonly ProxyErrorCode[], access: Access): Record<string, OpenApiResponse> {
  const byStatus = new Map<number, ProxyErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = PROXY_ERROR_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: Record<string, OpenApiResponse> = {};
  for (const [status, group] of [...byStatus].sort(([a], [b]) => a - b)) {
    const names: HeaderName[] = ["X-Request-Id"];
    if (group.some((c) => RETRY_AFTER_CODES.includes(c))) names.push("Retry-After");
    if (access === "customer") names.push(...RATE_LIMIT_HEADERS);
    out[String(status)] = {
      description: `${ERROR_DESCRIPTIONS[status] ?? "An error."} Codes: ${group.map((c) => `\`${c}\``).join(", ")}.`,
      headers: headerRefs(names),
      content: {
        "application/json": {
          // The envelope, narrowed to the codes this response can carry.
          schema: {
            allOf: [ref("Error")],
            properties: { error: { properties: { code: { enum: group } } } },
          },
          example: { error: { code: group[0], message: "…", request_id: "req_0123456789abcdef" } },
        },
      },
      "x-error-codes": group,
    };
  }
  return out;
}

function parametersOf(spec: OperationSpec): OpenApiParameter[] {
  const params: OpenApiParameter[] = [];
  for (const m of spec.path.matchAll(/\{([^}]+)\}/g)) {
    params.push({ name: m[1] ?? "", in: "path", required: true, description: "the id", schema: { type: "string" } });
  }
  if (spec.query) {
    const schema = jsonSchemaOf(spec.query);
    const required = new Set((schema.required as string[] | undefined) ?? []);
    for (const [name, prop] of Object.entries((schema.properties as Record<string, JsonSchema> | undefined) ?? {})) {
      params.push({
        name,
        in: "query",
        required: required.has(name),
        description: "epoch milliseconds",
        schema: prop,
      });
    }
  }
  if (spec.idempotencyKey) {
    params.push({
      name: "Idempotency-Key",
      in: "header",
      required: false,
      description:
        "1–255 printable ASCII characters. A retry with the same key and body within 24 h returns the stored " +
        "response (`Idempotent-Replayed: true`) and is charged once; another body with the key gets 422.",
      schema: { type: "string", pattern: "^[\\x21-\\x7e]{1,255}$" },
    });
  }
  params.push({
    name: "X-Request-Id",
    in: "header",
    required: false,
    description: "Your id for the request (8–128 of `A-Za-z0-9._:-`), echoed back; otherwise one is made.",
    schema: { type: "string", pattern: "^[A-Za-z0-9._:-]{8,128}$" },
  });
  return params;
}

function operation(spec: OperationSpec): OpenApiOperation {
  const okHeaders: HeaderName[] = ["X-Request-Id", ...(spec.ok.headers ?? [])];
  if (spec.access === "customer") okHeaders.push(...RATE_LIMIT_HEADERS);
  const op: OpenApiOperation = {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: [spec.tag],
    security: SECURITY[spec.access],
    parameters: parametersOf(spec),
    responses: {
      [String(spec.ok.status)]: {
        description: spec.ok.description,
        headers: headerRefs(okHeaders),
        content: spec.ok.content,
      },
      ...errorResponses([...impliedErrors(spec), ...(spec.errors ?? [])], spec.access),
    },
  };
  if (spec.body) op.requestBody = { required: true, content: json(ref(spec.body)) };
  else if (spec.otherBody) {
    op.requestBody = {
      required: spec.otherBody.required,
      description: spec.otherBody.description,
      content: json(spec.otherBody.schema),
    };
  }
  return op;
}

export interface DocumentLimits {
  maxBodyBytes: number;
  maxTextChars: number;
  tokensPerSecond: number;
}

/** The document for a proxy configured with `config` (its limits appear in descriptions). */
export function openApiDocument(config: Partial<Pick<ProxyConfig, keyof DocumentLimits>> = {}): OpenApiDocument {
  const limits: DocumentLimits = {
    maxBodyBytes: config.maxBodyBytes ?? 64 * 1024,
    maxTextChars: config.maxTextChars ?? 2000,
    tokensPerSecond: config.tokensPerSecond ?? 50,
  };
  const paths: OpenApiDocument["paths"] = {};
  for (const spec of operations(limits)) {
    const item = paths[spec.path] ?? {};
    item[spec.method] = operation(spec);
    paths[spec.path] = item;
  }
  const schemas: Record<string, JsonSchema> = { Error: jsonSchemaOf(errorEnvelopeSchema, "output") };
  for (const [name, schema] of Object.entries(REQUEST_BODY_SCHEMAS)) schemas[name] = jsonSchemaOf(schema, "input");
  for (const [name, schema] of Object.entries(RESPONSE_SCHEMAS)) schemas[name] = jsonSchemaOf(schema, "output");

  return {
    openapi: "3.1.0",
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    info: {
      title: "IndexTTS2 metered TTS API",
      version: "0.1.0",
      description:
        "Emotion-controllable text-to-speech, metered per token: 1 s of audio = " +
        `${limits.tokensPerSecond} tokens, priced by the customer's plan (peak windows may carry a surcharge). ` +
        "Authenticate with `Authorization: Bearer <API key>` or `x-api-key: <API key>`; the admin API takes " +
        "`Authorization: Bearer <ADMIN_TOKEN>`. Every failure is a JSON error envelope " +
        '`{"error":{"code","message","request_id"}}` with a stable `code`. Request bodies are at most ' +
        `${limits.maxBodyBytes} bytes. An unknown route answers 404 \`NOT_FOUND\`.`,
    },
    tags: [
      { name: "Speech", description: "Text to speech, metered and billed." },
      { name: "Account", description: "The calling key's own account." },
      { name: "Admin: customers", description: "Customers and their API keys." },
      { name: "Admin: plans", description: "Plans and their versioned prices." },
      { name: "Admin: nodes", description: "GPU nodes and their routing pools." },
      { name: "Admin: usage", description: "Usage across customers." },
      { name: "Operations", description: "Health and metrics." },
      { name: "Documentation", description: "This reference." },
    ],
    paths,
    components: {
      schemas,
      headers: Object.fromEntries(Object.entries(HEADERS).map(([name, h]) => [headerComponentName(name), h])),
      securitySchemes: {
        apiKeyBearer: {
          type: "http",
          scheme: "bearer",
          description: "An API key (`tts_live_…`) as `Authorization: Bearer <key>`.",
        },
        apiKeyHeader: {
          type: "apiKey",
          in: "header",
          name: "x-api-key",
          description: "An API key in `x-api-key` (preferred over `Authorization` when both are sent).",
        },
        adminToken: {
          type: "http",
          scheme: "bearer",
          description: "The admin API's token (`ADMIN_TOKEN`) as `Authorization: Bearer <token>`.",
        },
      },
    },
  };
}
