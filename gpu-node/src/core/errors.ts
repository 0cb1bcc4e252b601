/**
 * The one error type of the gpu-node. Every failure a client can see carries a stable `code`;
 * the HTTP layer's single `onError` turns it into `{"error":{"code","message","request_id"}}`.
 */
import { CodedError } from "../../../domain/errors.ts";

export const ERROR_STATUS = {
  INVALID_JSON: 400,
  INVALID_REQUEST: 400,
  EMPTY_TEXT: 400,
  TEXT_TOO_LONG: 400,
  TOO_MANY_SEGMENTS: 400,
  UNKNOWN_SPEAKER: 400,
  UNKNOWN_EMOTION: 400,
  CONFLICTING_EMOTION: 400,
  SPEED_OUT_OF_RANGE: 400,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  /** the request's estimated peak memory is more than the node's whole budget (engine/memory-budget.ts) */
  REQUEST_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  CLIENT_CLOSED: 499,
  INTERNAL: 500,
  QUEUE_FULL: 503,
  DEADLINE_UNMEETABLE: 503,
  SHUTTING_DOWN: 503,
  DEADLINE_EXCEEDED: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class NodeError extends CodedError<ErrorCode, (typeof ERROR_STATUS)[ErrorCode]> {
  override readonly name = "NodeError";

  constructor(
    code: ErrorCode,
    message: string,
    /** Seconds a client should wait before retrying (503s). */
    readonly retryAfterSeconds?: number,
    readonly details?: unknown,
  ) {
    super(code, ERROR_STATUS[code], message);
  }
}

export const isNodeError = (e: unknown): e is NodeError => e instanceof NodeError;
