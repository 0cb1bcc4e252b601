import { PROXY_ERROR_STATUS, type ProxyErrorCode } from "../../core/errors.ts";
import { MAX_TEXT_CODE_POINTS } from "../../core/text/length.ts";
import { defaultJobsConfig, type JobsConfig } from "../../jobs/config.ts";
import type { ProxyConfig } from "../deps.ts";
import { errorEnvelopeSchema, REQUEST_BODY_SCHEMAS, RESPONSE_SCHEMAS, ref } from "./components.ts";
import {
  HEADERS,
  type HeaderName,
  headerComponentName,
  headerRefs,
  RATE_LIMIT_HEADERS,
  RETRY_AFTER_CODES,
} from "./headers.ts";
import { allOperations } from "./operations/index.ts";
import { type Access, type DocumentLimits, json, type OperationSpec } from "./spec.ts";
import {
  type JsonSchema,
  jsonSchemaOf,
  type OpenApiDocument,
  type OpenApiOperation,
  type OpenApiParameter,
  type OpenApiResponse,
} from "./types.ts";

/**
 * Builds the proxy's OpenAPI 3.1 document from the operation specs (`./operations/`), with zod 4's
 * `z.toJSONSchema` (OpenAPI 3.1 schemas are JSON Schema 2020-12, which is what zod emits), so request bodies appear
 * exactly as the handlers accept them (the `input` side: a field with a default is optional).
 *
 * Error responses are derived from `PROXY_ERROR_STATUS`: an operation lists the error codes it can produce and the
 * statuses follow from them, so the document cannot disagree with the status a code is rendered with.
 */

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
    codes.push("LIMITER_UNAVAILABLE");
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
  503: "No GPU node of the customer's pool can take the request now, or the limits shared by the replicas cannot be checked: retry after `Retry-After` seconds.",
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
          example: {
            error: {
              message: "…",
              type: "invalid_request_error",
              param: null,
              code: group[0],
              request_id: "req_0123456789abcdef",
            },
          },
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
    const name = m[1] ?? "";
    const description = spec.pathDescriptions?.[name] ?? "the id";
    params.push({ name, in: "path", required: true, description, schema: { type: "string" } });
  }
  if (spec.query) {
    const schema = jsonSchemaOf(spec.query);
    const required = new Set((schema.required as string[] | undefined) ?? []);
    for (const [name, prop] of Object.entries((schema.properties as Record<string, JsonSchema> | undefined) ?? {})) {
      params.push({
        name,
        in: "query",
        required: required.has(name),
        description: spec.queryDescriptions?.[name] ?? "epoch milliseconds",
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
    description:
      "Your id for the request (8–128 of `A-Za-z0-9._:-`), echoed back as `X-Client-Request-Id`. The proxy's own id " +
      "(`X-Request-Id` of the response) is always made by the proxy.",
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
      ...Object.fromEntries(
        (spec.otherOk ?? []).map((other) => [
          String(other.status),
          {
            description: other.description,
            headers: headerRefs([...new Set([...okHeaders, ...(other.headers ?? [])])]),
            content: spec.ok.content,
          },
        ]),
      ),
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

/**
 * The document for a proxy configured with `config` (its limits appear in descriptions). `jobs`: the jobs API's
 * settings when the proxy serves it (`deps.jobs.config`), false when it does not; by default it is documented with
 * the default jobs settings.
 */
export function openApiDocument(
  config: Partial<Pick<ProxyConfig, "maxBodyBytes" | "maxTextChars" | "tokensPerSecond">> = {},
  jobs: Pick<JobsConfig, "maxBodyBytes"> | false = defaultJobsConfig(),
): OpenApiDocument {
  const limits: DocumentLimits = {
    jobsMaxBodyBytes: jobs === false ? null : jobs.maxBodyBytes,
    maxBodyBytes: config.maxBodyBytes ?? 64 * 1024,
    maxTextChars: config.maxTextChars ?? MAX_TEXT_CODE_POINTS,
    tokensPerSecond: config.tokensPerSecond ?? 50,
  };
  const paths: OpenApiDocument["paths"] = {};
  for (const spec of allOperations(limits)) {
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
        `${limits.maxBodyBytes} bytes${limits.jobsMaxBodyBytes === null ? "" : ` (a job's, ${limits.jobsMaxBodyBytes})`}. ` +
        "An unknown route answers 404 `NOT_FOUND`.",
    },
    tags: [
      { name: "Speech", description: "Text to speech, metered and billed." },
      { name: "Account", description: "The calling key's own account." },
      { name: "Keys", description: "The calling customer's own API keys: list, create (shown once), revoke." },
      {
        name: "Batch jobs",
        description:
          "The batch plan's durable async queue: items synthesised when GPU nodes have spare capacity, at the batch " +
          "price, each charged once when done.",
      },
      { name: "Admin: customers", description: "Customers and their API keys." },
      { name: "Admin: plans", description: "Plans and their versioned prices." },
      { name: "Admin: nodes", description: "GPU nodes and their routing pools." },
      { name: "Admin: usage", description: "Usage across customers." },
      { name: "Billing", description: "Stripe: the customer portal, webhooks, invoicing and reconciliation." },
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
