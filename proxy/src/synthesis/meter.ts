import type { WavMeasure } from "../../../audio/wav.ts";
import { priceTokens, tokensFromFrames } from "../../../billing/src/rating/rate.ts";
import { peakAt } from "../../../domain/peak.ts";
import { ProxyError } from "../core/errors.ts";
import type { KeyContext, PlanStore, UsageEvent, UsageLedger, UsageSource } from "../store/ports.ts";

export interface MeterInput {
  requestId: string;
  auth: KeyContext;
  /** the request's arrival: the price version in force then applies */
  at: number;
  wav: WavMeasure;
  inputChars: number;
  /** null when the audio was stored by an earlier run of a batch item (that run's node is not known) */
  nodeId: string | null;
  priority: "interactive" | "batch";
  /** what sent the request (api when not given) */
  source?: UsageSource;
}

export interface Metered {
  event: UsageEvent;
  /** false when this request id had already been recorded (a retried write): nothing was charged twice */
  inserted: boolean;
}

/**
 * Turn verified audio into a rated usage row and commit it. Resolves only once the row is durable (the ledger is
 * group-committed), so the response that follows is never one the ledger could lose.
 */
export async function meterAndRecord(
  deps: { plans: PlanStore; ledger: UsageLedger; tokensPerSecond: number },
  input: MeterInput,
): Promise<Metered> {
  const { auth, wav } = input;
  const version = await deps.plans.versionAt(auth.plan.id, input.at);
  if (!version) throw new ProxyError("INTERNAL", `plan ${auth.plan.id} has no price in force`);
  const frames = wav.dataBytes / (wav.channels * (wav.bitsPerSample / 8));
  const tokens = tokensFromFrames(frames, wav.sampleRate, deps.tokensPerSecond);
  const rated = priceTokens({
    tokens,
    plan: auth.plan.kind,
    version: {
      unitPriceMicrosPer1k: version.unitPriceMicrosPer1kTokens,
      peakMultiplierBp: version.peakMultiplierBp,
      batchDiscountBp: version.batchDiscountBp,
    },
    peak: peakAt(input.at, auth.plan.timeZone, version.peakWindows),
  });
  const event: UsageEvent = {
    requestId: input.requestId,
    customerId: auth.customer.id,
    apiKeyId: auth.key.id,
    planId: auth.plan.id,
    priceVersionId: version.id,
    occurredAt: input.at,
    audioMs: Math.round(wav.durationMs),
    tokens,
    inputChars: input.inputChars,
    peak: rated.peak,
    multiplierBp: rated.multiplierBp,
    amountMicros: rated.amountMicros,
    currency: auth.plan.currency,
    nodeId: input.nodeId,
    priority: input.priority,
    source: input.source ?? "api",
  };
  const [outcome] = await deps.ledger.append([event]);
  return { event, inserted: outcome?.inserted ?? false };
}
