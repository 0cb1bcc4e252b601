/**
 * The one shape of an expected failure, for every service: a stable `code` from the service's own table, the HTTP
 * status that table gives it, and a message for people. Each service declares its table and a subclass; its single
 * `onError` renders `{"error":{"code","message","request_id"}}` from these fields.
 *
 * @example
 * const STATUS = { NOT_FOUND: 404 } as const;
 * class ShopError extends CodedError<keyof typeof STATUS> {
 *   constructor(code: keyof typeof STATUS, message: string) { super(code, STATUS[code], message); }
 * }
 */
export class CodedError<Code extends string, Status extends number = number> extends Error {
  constructor(
    readonly code: Code,
    readonly status: Status,
    message: string,
  ) {
    super(message);
  }
}
