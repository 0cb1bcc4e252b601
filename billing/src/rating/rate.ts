import { isPeak, type PeakWindow } from "../../../domain/peak.ts";

/**
 * Rating: the price of one usage event, in integer micro-units of the price's currency (1 USD = 1 000 000 micros).
 *
 * MONEY RULES. No floats, ever: every product is taken in BigInt and divided ONCE, at the end, rounding half up to
 * the micro-unit (x.5 → x+1). Rounding per step instead (unit price, then surcharge, then discount) drifts: at
 * 1 600 micros/1k tokens, one token at peak ×1.5 is 2.4 → 2 micros rounded once, but 1.6 → 2 then ×1.5 = 3 rounded
 * per step. Amounts are rated per event and summed; the invoice converts the sum to the currency's minor unit.
 *
 * Plans:
 * - basic: tokens × unit price / 1000 × (peak multiplier at peak times);
 * - batch: the basic price less `batchDiscountBp`, and never a peak surcharge (batch work can be scheduled, so it
 *   is not what peak pricing is meant to deter);
 * - enterprise: 0 per event at metering time. Enterprise contracts have included tokens and an overage price, which
 *   depend on the whole period's usage, so they are settled when the invoice is built, not per event. The event
 *   still records `peak` so the invoice can apply a peak-aware overage price.
 */

export type Plan = "basic" | "batch" | "enterprise";

/** One version of the price list (prices are versioned; an event is rated with the version in force at `atMs`). */
export interface PriceVersion {
  /** micros per 1000 tokens (a non-negative integer) */
  unitPriceMicrosPer1k: number;
  /** basis points applied at peak on the basic plan: 10 000 = ×1, 15 000 = ×1.5 */
  peakMultiplierBp: number;
  /** basis points off the basic price on the batch plan: 2 500 = 25 % off (0 … 10 000) */
  batchDiscountBp: number;
  peakWindows: readonly PeakWindow[];
  /** IANA zone the peak windows are written in */
  timeZone: string;
}

export interface RateUsageInput {
  /** a non-negative integer; bigint for counts past 2^53 */
  tokens: number | bigint;
  plan: Plan;
  version: PriceVersion;
  /** the event's time (Unix ms): peak is decided by when the usage happened, not when it is rated */
  atMs: number;
}

export interface RatedUsage {
  /** the event falls in a peak window (also reported for batch and enterprise, which pay no surcharge) */
  peak: boolean;
  /** the multiplier actually applied, in basis points (10 000 when none) */
  multiplierBp: number;
  /** integer micros, rounded half up once */
  amountMicros: number;
}

export const BASIS_POINTS = 10_000;
const BP = 10_000n;

/** n / d rounded half up, for n ≥ 0 and d > 0, exactly. */
export function divRoundHalfUp(n: bigint, d: bigint): bigint {
  if (n < 0n || d <= 0n) throw new RangeError("divRoundHalfUp expects n ≥ 0 and d > 0");
  return (2n * n + d) / (2n * d);
}

function nonNegativeInteger(name: string, value: number | bigint): bigint {
  if (typeof value === "bigint") {
    if (value < 0n) throw new RangeError(`${name} must be ≥ 0, got ${value}`);
    return value;
  }
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative safe integer, got ${value}`);
  }
  return BigInt(value);
}

function toSafeNumber(name: string, value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`${name} exceeds 2^53 − 1: ${value}`);
  return Number(value);
}

/**
 * Rates one usage event.
 *
 * @example
 * rateUsage({ tokens: 2_000, plan: "basic", atMs, version: { unitPriceMicrosPer1k: 15_000, peakMultiplierBp: 15_000,
 *   batchDiscountBp: 5_000, peakWindows, timeZone: "Asia/Shanghai" } })
 * // { peak: true, multiplierBp: 15_000, amountMicros: 45_000 } at peak
 */
export function rateUsage({ tokens, plan, version, atMs }: RateUsageInput): RatedUsage {
  return priceTokens({ tokens, plan, version, peak: isPeak(atMs, version.timeZone, version.peakWindows) });
}

/** The price part of `rateUsage`, for a caller that already knows whether the event was at peak (billing's bulk path). */
export function priceTokens({
  tokens,
  plan,
  version,
  peak,
}: {
  tokens: number | bigint;
  plan: Plan;
  version: Pick<PriceVersion, "unitPriceMicrosPer1k" | "peakMultiplierBp" | "batchDiscountBp">;
  peak: boolean;
}): RatedUsage {
  const t = nonNegativeInteger("tokens", tokens);
  const unit = nonNegativeInteger("unitPriceMicrosPer1k", version.unitPriceMicrosPer1k);
  const peakMultiplier = nonNegativeInteger("peakMultiplierBp", version.peakMultiplierBp);
  const discount = nonNegativeInteger("batchDiscountBp", version.batchDiscountBp);
  if (discount > BP) throw new RangeError(`batchDiscountBp must be ≤ 10000, got ${version.batchDiscountBp}`);

  switch (plan) {
    case "basic": {
      const multiplier = peak ? peakMultiplier : BP;
      return { peak, multiplierBp: Number(multiplier), amountMicros: amountOf(t, unit, multiplier) };
    }
    case "batch":
      return { peak, multiplierBp: BASIS_POINTS, amountMicros: amountOf(t, unit, BP - discount) };
    case "enterprise":
      return { peak, multiplierBp: BASIS_POINTS, amountMicros: 0 };
    default: {
      const unknown: never = plan;
      throw new RangeError(`unknown plan: ${String(unknown)}`);
    }
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const DENOMINATOR = 1000 * BASIS_POINTS;

/** round(t × unit × bp / (1000 × 10,000)), half up, exactly. */
function amountOf(t: bigint, unit: bigint, bp: bigint): number {
  return toSafeNumber("amountMicros", divRoundHalfUp(t * unit * bp, 1000n * BP));
}

/**
 * `amountOf` for already-validated non-negative safe integers, in plain integer arithmetic when every intermediate
 * stays below 2^53 (exact: the remainder is taken before dividing, so no float rounding can cross an integer), in
 * BigInt otherwise. The billing hot path: one call per event, no allocation.
 */
export function amountMicrosOf(tokens: number, unitPriceMicrosPer1k: number, bp: number): number {
  const n = tokens * unitPriceMicrosPer1k * bp;
  if (n <= (Number.MAX_SAFE_INTEGER - DENOMINATOR) / 2) {
    const a = 2 * n + DENOMINATOR;
    const b = 2 * DENOMINATOR;
    return (a - (a % b)) / b;
  }
  const exact = divRoundHalfUp(BigInt(tokens) * BigInt(unitPriceMicrosPer1k) * BigInt(bp), 1000n * BP);
  if (exact > MAX_SAFE) throw new RangeError(`amountMicros exceeds 2^53 − 1: ${exact}`);
  return Number(exact);
}

/**
 * Billable tokens for a stretch of audio: IndexTTS2 emits 50 semantic tokens per second of speech, so
 * round(audioMs × 50 / 1000), half up. Exact for integer inputs; a fractional `audioMs` is rounded in floating
 * point, so prefer `tokensFromFrames` when the sample count is known (it is, for a WAV).
 */
export function tokensFromAudioMs(audioMs: number, tokensPerSecond = 50): number {
  if (!Number.isFinite(audioMs) || audioMs < 0) throw new RangeError(`audioMs must be ≥ 0, got ${audioMs}`);
  if (!Number.isFinite(tokensPerSecond) || tokensPerSecond <= 0) throw new RangeError("tokensPerSecond must be > 0");
  if (Number.isSafeInteger(audioMs) && Number.isSafeInteger(tokensPerSecond)) {
    return toSafeNumber("tokens", divRoundHalfUp(BigInt(audioMs) * BigInt(tokensPerSecond), 1000n));
  }
  return Math.floor((audioMs * tokensPerSecond) / 1000 + 0.5);
}

/** Billable tokens from a sample count, exactly: round(frames × tokensPerSecond / sampleRate), half up. */
export function tokensFromFrames(frames: number, sampleRate: number, tokensPerSecond = 50): number {
  const f = nonNegativeInteger("frames", frames);
  const rate = nonNegativeInteger("sampleRate", sampleRate);
  const tps = nonNegativeInteger("tokensPerSecond", tokensPerSecond);
  if (rate === 0n || tps === 0n) throw new RangeError("sampleRate and tokensPerSecond must be > 0");
  return toSafeNumber("tokens", divRoundHalfUp(f * tps, rate));
}
