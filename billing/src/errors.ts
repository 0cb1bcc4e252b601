/**
 * Billing's expected failures, with stable codes. The proxy's routes map them onto its one error type and envelope
 * (`{"error":{"code","message","request_id"}}`); the CLI prints them.
 */
import { CodedError } from "../../domain/errors.ts";

export const BILLING_ERROR_STATUS = {
  /** Stripe (or the webhook secret) is not configured: portal, reconcile and webhooks cannot run. */
  BILLING_NOT_CONFIGURED: 501,
  /** `Stripe-Signature` missing, forged, or older than the tolerance. */
  STRIPE_SIGNATURE_INVALID: 400,
  INVALID_REQUEST: 400,
  /** a validly signed webhook body that is not JSON */
  INVALID_JSON: 400,
  /** a validly signed webhook body that is not an event we can process (no id, an array, a malformed object) */
  WEBHOOK_EVENT_INVALID: 400,
  /** Stripe answered with an error or could not be reached. */
  BILLING_UNAVAILABLE: 502,
} as const;

export type BillingErrorCode = keyof typeof BILLING_ERROR_STATUS;

export class BillingError extends CodedError<BillingErrorCode> {
  override readonly name = "BillingError";

  constructor(code: BillingErrorCode, message: string) {
    super(code, BILLING_ERROR_STATUS[code], message);
  }
}

export const isBillingError = (e: unknown): e is BillingError => e instanceof BillingError;
