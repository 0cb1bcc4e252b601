/**
 * Input checks shared by every store implementation, so in-memory and SQLite accept and refuse the same things.
 * Money, counts and basis points must be safe non-negative integers: a float would make sums inexact.
 */
import { z } from "zod";
import { validatePeakWindows } from "../../../domain/peak.ts";
import { isValidTimeZone } from "../../../domain/time-zone.ts";
import { PLAN_KINDS, PRIORITIES, SHARED_POOL, USAGE_SOURCES } from "../../../migrations/schema/index.ts";
import type { NewNode, NewPlan, NewPriceVersion, Result, UsageEvent, UsageSource } from "./ports.ts";

const nonNegativeInt = z.int().nonnegative();
const positiveInt = z.int().positive();

const timeZone = z.string().refine(isValidTimeZone, "not an IANA time zone");
/** The peak rule's own checks (`validatePeakWindows`), so a stored window is one `isPeak` accepts. */
export const peakWindowSchema = z
  .object({ days: z.array(z.int()), start: z.string(), end: z.string() })
  .superRefine((window, ctx) => {
    for (const problem of validatePeakWindows([window]))
      ctx.addIssue({ code: "custom", message: problem.replace(/^window 0: /, "") });
  });

export const newPlanSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "lowercase letters, digits, - and _"),
  kind: z.enum(PLAN_KINDS),
  name: z.string().min(1),
  currency: z.string().regex(/^[A-Z]{3}$/, "ISO 4217 code"),
  timeZone,
  requestsPerSecond: positiveInt,
  burst: positiveInt,
  maxInFlight: positiveInt,
});

export const newPriceVersionSchema = z.object({
  effectiveFrom: nonNegativeInt.optional(),
  unitPriceMicrosPer1kTokens: nonNegativeInt,
  peakWindows: z.array(peakWindowSchema).default([]),
  peakMultiplierBp: nonNegativeInt.default(10_000),
  batchDiscountBp: z.int().min(0).max(10_000).default(0),
  monthlyFeeMicros: nonNegativeInt.default(0),
  includedTokens: nonNegativeInt.default(0),
  overagePriceMicrosPer1kTokens: nonNegativeInt.nullable().default(null),
  stripeProductId: z.string().min(1).nullable().default(null),
  stripePriceId: z.string().min(1).nullable().default(null),
});

export const newNodeSchema = z.object({
  id: z.string().min(1).optional(),
  url: z.url({ protocol: /^https?$/ }).transform((url) => url.replace(/\/+$/, "")),
  pool: z.string().min(1).default(SHARED_POOL),
  weight: nonNegativeInt.default(1),
});

function parse<S extends z.ZodType>(schema: S, input: unknown): Result<z.output<S>, "invalid"> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0];
  const message = issue ? `${issue.path.join(".") || "input"}: ${issue.message}` : "invalid input";
  return { ok: false, error: "invalid", message };
}

export const parsePlan = (input: NewPlan) => parse(newPlanSchema, input);

/** Parses a new price version, resolving a missing `effectiveFrom` to `now`. */
export function parsePriceVersion(input: NewPriceVersion, now: number) {
  const parsed = parse(newPriceVersionSchema, input);
  if (!parsed.ok) return parsed;
  return { ok: true as const, value: { ...parsed.value, effectiveFrom: parsed.value.effectiveFrom ?? now } };
}

export const parseNode = (input: NewNode) => parse(newNodeSchema, input);

const isNonNegativeInt = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;
const isNonEmptyString = (v: unknown): boolean => typeof v === "string" && v.length > 0;

/**
 * Why an event may not enter the ledger, or null if it may. Hand-written rather than zod because it runs once per
 * billed request on the hot path.
 */
export function usageEventProblem(e: UsageEvent): string | null {
  if (!isNonEmptyString(e.requestId) || e.requestId.length > 255) return "requestId must be 1-255 characters";
  if (!isNonEmptyString(e.customerId) || !isNonEmptyString(e.apiKeyId)) return "customerId and apiKeyId are required";
  if (!isNonEmptyString(e.planId) || !isNonEmptyString(e.priceVersionId))
    return "planId and priceVersionId are required";
  if (!isNonNegativeInt(e.occurredAt)) return "occurredAt must be epoch milliseconds";
  if (!isNonNegativeInt(e.audioMs) || !isNonNegativeInt(e.tokens) || !isNonNegativeInt(e.inputChars)) {
    return "audioMs, tokens and inputChars must be non-negative integers";
  }
  if (!isNonNegativeInt(e.amountMicros)) return "amountMicros must be a non-negative integer (micro-units)";
  if (!isNonNegativeInt(e.multiplierBp)) return "multiplierBp must be a non-negative integer (basis points)";
  if (typeof e.peak !== "boolean") return "peak must be a boolean";
  if (typeof e.currency !== "string" || !/^[A-Z]{3}$/.test(e.currency)) return "currency must be an ISO 4217 code";
  if (!(PRIORITIES as readonly string[]).includes(e.priority)) return "priority must be interactive or batch";
  if (e.nodeId !== null && typeof e.nodeId !== "string") return "nodeId must be a string or null";
  if (e.source !== undefined && !(USAGE_SOURCES as readonly string[]).includes(e.source))
    return "source must be api, playground or job";
  return null;
}

/** What sent the event: "api" unless it says otherwise (what every store writes). */
export const sourceOf = (e: UsageEvent): UsageSource => e.source ?? "api";

/** Throws on the first malformed event: a malformed event is a bug in the caller, and the whole append must fail. */
export function assertUsageEvents(events: readonly UsageEvent[]): void {
  for (const event of events) {
    const problem = usageEventProblem(event);
    if (problem !== null) throw new InvalidUsageEventError(event.requestId, problem);
  }
}

export class InvalidUsageEventError extends Error {
  override readonly name = "InvalidUsageEventError";
  readonly code = "INVALID_USAGE_EVENT";
  constructor(
    readonly requestId: string,
    readonly problem: string,
  ) {
    super(`usage event ${String(requestId)}: ${problem}`);
  }
}
