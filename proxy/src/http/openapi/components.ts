import { z } from "zod";
import { CALLBACK_STATES } from "../../../../migrations/schema/index.ts";
import { PROXY_ERROR_STATUS, type ProxyErrorCode } from "../../core/errors.ts";
import { JOB_STATUSES } from "../../jobs/metrics.ts";
import { jobBodySchema } from "../../jobs/schemas.ts";
import {
  customerBodySchema,
  keyBodySchema,
  nodeBodySchema,
  openAiSpeechSchema,
  planBodySchema,
  priceVersionBodySchema,
  ttsBodySchema,
} from "../schemas.ts";
import type { JsonSchema } from "./types.ts";

/**
 * The document's `components.schemas`: the request bodies exactly as the handlers validate them (`../schemas.ts`),
 * the error envelope, and the shapes of successful JSON answers.
 */

/** The request bodies, by component name: exactly the schemas the handlers pass to `readJson`. */
export const REQUEST_BODY_SCHEMAS = {
  TtsRequest: ttsBodySchema,
  OpenAiSpeechRequest: openAiSpeechSchema,
  CustomerRequest: customerBodySchema,
  KeyRequest: keyBodySchema,
  PlanRequest: planBodySchema,
  PriceVersionRequest: priceVersionBodySchema,
  NodeRequest: nodeBodySchema,
  JobRequest: jobBodySchema,
} as const;
export type RequestBodyName = keyof typeof REQUEST_BODY_SCHEMAS;

export const ERROR_CODES = Object.keys(PROXY_ERROR_STATUS) as [ProxyErrorCode, ...ProxyErrorCode[]];

/** The one error envelope every failure is rendered with (`onError` in app.ts). */
export const errorEnvelopeSchema = z.object({
  error: z.object({
    message: z.string(),
    /** OpenAI's error type: invalid_request_error, authentication_error, permission_error, rate_limit_error, server_error */
    type: z.string(),
    /** the request field at fault, when one is */
    param: z.string().nullable(),
    code: z.enum(ERROR_CODES),
    request_id: z.string(),
    /** e.g. the zod issues of an INVALID_REQUEST body */
    details: z.unknown().optional(),
  }),
});

const nullableString = z.string().nullable();
const epochMs = z.number().int();
const record = z.looseObject;

const usageTotals = z.object({
  currency: z.string(),
  events: z.number().int(),
  tokens: z.number().int(),
  peakTokens: z.number().int(),
  audioMs: z.number().int(),
  inputChars: z.number().int(),
  amountMicros: z.number().int(),
});
/** per plan and currency: the plan the usage was charged under */
const planUsageTotals = usageTotals.extend({ planId: z.string() });
const dailyUsage = z.object({
  day: z.string(),
  planId: z.string(),
  peak: z.boolean(),
  currency: z.string(),
  events: z.number().int(),
  tokens: z.number().int(),
  audioMs: z.number().int(),
  amountMicros: z.number().int(),
});

const customerTotals = z.object({
  currency: z.string(),
  requests: z.number().int(),
  tokens: z.number().int(),
  peak_tokens: z.number().int(),
  audio_ms: z.number().int(),
  amount_micros: z.number().int(),
});

/** A job as `jobView` (../../jobs/view.ts) shows it. */
const job = z.object({
  id: z.string(),
  object: z.literal("job"),
  status: z.enum(JOB_STATUSES),
  created_at: epochMs,
  finished_at: epochMs.nullable(),
  cancelled_at: epochMs.nullable(),
  /** when its rows and audio are deleted (retention), once finished */
  expires_at: epochMs.nullable(),
  prefer_off_peak: z.boolean(),
  metadata: z.record(z.string(), z.string()).nullable(),
  items_total: z.number().int().positive(),
  /** finished items (done, failed or cancelled) over all items */
  progress: z.number().min(0).max(1),
  counts: z.object({
    queued: z.number().int(),
    running: z.number().int(),
    done: z.number().int(),
    failed: z.number().int(),
    cancelled: z.number().int(),
  }),
  /** what the done items were charged, at the batch price */
  charged: z.object({
    audio_ms: z.number().int(),
    tokens: z.number().int(),
    amount_micros: z.number().int(),
    currency: z.string(),
  }),
  callback: z
    .object({
      url: z.string(),
      state: z.enum(CALLBACK_STATES).nullable(),
      attempts: z.number().int(),
      last_error: nullableString,
    })
    .nullable(),
  audio_url: z.string(),
});

/** One item as `itemView` shows it; the audio fields are null until it is done. */
const jobItem = z.object({
  n: z.number().int().nonnegative(),
  state: z.enum(["queued", "running", "done", "failed", "cancelled"]),
  attempts: z.number().int(),
  chars: z.number().int(),
  voice: z.number().int(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  audio_ms: z.number().int().nullable(),
  tokens: z.number().int().nullable(),
  amount_micros: z.number().int().nullable(),
  completed_at: epochMs.nullable(),
  audio_url: nullableString,
});

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
    /** per local day, plan charged under, peak flag and currency */
    days: z.array(
      z.object({
        day: z.string(),
        plan: z.string(),
        peak: z.boolean(),
        requests: z.number().int(),
        tokens: z.number().int(),
        audio_ms: z.number().int(),
        amount_micros: z.number().int(),
        currency: z.string(),
      }),
    ),
    /** per plan charged under and currency */
    plans: z.array(customerTotals.extend({ plan: z.string() })),
    /** per currency */
    totals: z.array(customerTotals),
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
    expiresAt: epochMs.nullable(),
  }),
  CustomerKey: z.object({
    id: z.string(),
    prefix: z.string(),
    name: nullableString,
    created_at: epochMs,
    last_used_at: epochMs.nullable(),
    expires_at: epochMs.nullable(),
    revoked_at: epochMs.nullable(),
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
  UsageTotals: usageTotals,
  AdminUsage: z.object({
    from: epochMs,
    to: epochMs,
    /** every customer in the range, one row per currency */
    totals: z.array(usageTotals),
    /** every customer in the range, one row per plan and currency */
    plans: z.array(planUsageTotals),
    /** with `customer_id`: that customer (with `days`); otherwise one page of customers that have usage */
    customers: z.array(
      z.object({
        customer_id: z.string(),
        totals: z.array(usageTotals),
        plans: z.array(planUsageTotals),
        days: z.array(dailyUsage).optional(),
      }),
    ),
    /** pass as `after` for the next page; null on the last one (absent with `customer_id`) */
    next_after: z.string().nullable().optional(),
  }),
  Job: job.extend({
    /** the HMAC key of the callback's signature: on the creating answer and its idempotent replays only */
    callback_secret: z.string().optional(),
  }),
  JobDetail: job.extend({ items: z.array(jobItem) }),
  JobList: z.object({
    jobs: z.array(job),
    /** pass as `before` for the next page; null when this page is empty */
    next_before: nullableString,
  }),
  JobDeleted: z.union([
    job.extend({ cancelled: z.literal(true), deleted: z.literal(false) }),
    z.object({
      id: z.string(),
      object: z.literal("job"),
      cancelled: z.literal(false),
      deleted: z.literal(true),
      deleted_at: epochMs,
    }),
  ]),
} as const;
export type ResponseSchemaName = keyof typeof RESPONSE_SCHEMAS;

export const ref = (name: RequestBodyName | ResponseSchemaName | "Error"): JsonSchema => ({
  $ref: `#/components/schemas/${name}`,
});
export const obj = (properties: Record<string, JsonSchema>, description?: string): JsonSchema => ({
  type: "object",
  properties,
  required: Object.keys(properties),
  ...(description ? { description } : {}),
});
export const arrayOf = (items: JsonSchema): JsonSchema => ({ type: "array", items });
