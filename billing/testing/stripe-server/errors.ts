/** An error as Stripe answers it: `{"error":{"type","code","message","param"}}` with an HTTP status. */
export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: "invalid_request_error" | "idempotency_error" | "card_error" | "api_error",
    message: string,
    readonly code?: string,
    readonly param?: string,
  ) {
    super(message);
  }

  body(): { error: Record<string, string> } {
    const error: Record<string, string> = { type: this.type, message: this.message };
    if (this.code) error.code = this.code;
    if (this.param) error.param = this.param;
    return { error };
  }
}

export const missing = (what: string, id: string, param = "id") =>
  new StripeApiError(404, "invalid_request_error", `No such ${what}: '${id}'`, "resource_missing", param);

export const invalid = (message: string, param?: string, code = "parameter_invalid") =>
  new StripeApiError(400, "invalid_request_error", message, code, param);
