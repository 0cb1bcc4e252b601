/**
 * The proxy's one error type. Every failure a customer can see has a stable `code`; the single `onError` of the
 * app renders `{"error":{"code","message","request_id"}}` with the status and any Retry-After.
 */
import { CodedError } from "../../../domain/errors.ts";

export const PROXY_ERROR_STATUS = {
  INVALID_JSON: 400,
  INVALID_REQUEST: 400,
  /** a Stripe webhook whose Stripe-Signature is missing, forged, or older than the tolerance */
  STRIPE_SIGNATURE_INVALID: 400,
  /** a validly signed Stripe webhook body that is not an event we can process (no id, an array, a bad object) */
  WEBHOOK_EVENT_INVALID: 400,
  EMPTY_TEXT: 400,
  TEXT_TOO_LONG: 400,
  UNKNOWN_VOICE: 400,
  UNKNOWN_EMOTION: 400,
  UNSUPPORTED_FORMAT: 400,
  MISSING_API_KEY: 401,
  INVALID_API_KEY: 401,
  ADMIN_TOKEN_REQUIRED: 401,
  CUSTOMER_SUSPENDED: 403,
  PLAN_REQUIRED: 403,
  /** the jobs API is for batch-plan keys */
  BATCH_PLAN_REQUIRED: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  /** a job item's audio before the item is done */
  ITEM_NOT_READY: 409,
  /** a whole-job download before every item is done */
  JOB_NOT_COMPLETE: 409,
  /** a whole-job WAV over the format's 4 GiB */
  JOB_AUDIO_TOO_LARGE: 409,
  IDEMPOTENCY_KEY_IN_USE: 409,
  /** the plan's number of active API keys is reached (`POST /v1/keys`) */
  KEY_LIMIT_REACHED: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  TOO_MANY_IN_FLIGHT: 429,
  /** over the plan's job quota (items per job, characters per job, active jobs or items) */
  JOB_QUOTA_EXCEEDED: 429,
  CLIENT_CLOSED: 499,
  INTERNAL: 500,
  UPSTREAM_INVALID_RESPONSE: 502,
  UPSTREAM_FAILED: 502,
  NO_CAPACITY: 503,
  /** the job queue did not take a new job's items (edge: Cloudflare Queues); nothing was accepted, retry later */
  JOBS_QUEUE_UNAVAILABLE: 503,
  /** the limits shared by replicas (Redis) cannot be reached: refused rather than admitted unlimited; retry shortly */
  LIMITER_UNAVAILABLE: 503,
  UPSTREAM_TIMEOUT: 504,
  BILLING_NOT_CONFIGURED: 501,
  /** Stripe answered with an error or could not be reached */
  BILLING_UNAVAILABLE: 502,
} as const;

export type ProxyErrorCode = keyof typeof PROXY_ERROR_STATUS;

export class ProxyError extends CodedError<ProxyErrorCode, (typeof PROXY_ERROR_STATUS)[ProxyErrorCode]> {
  override readonly name = "ProxyError";

  constructor(
    code: ProxyErrorCode,
    message: string,
    readonly options: { retryAfterSeconds?: number; headers?: Record<string, string>; details?: unknown } = {},
  ) {
    super(code, PROXY_ERROR_STATUS[code], message);
  }
}

export const isProxyError = (e: unknown): e is ProxyError => e instanceof ProxyError;
