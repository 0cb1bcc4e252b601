/**
 * The cost and price model. Money is exact (rationals from the inputs' decimal text) and every output is an integer
 * number of micro-units of the currency, rounded half up once from the exact value.
 *
 *   cost per day  = GPU price ÷ (lifetime × 365) + power per day + operations per day
 *   power per day = given directly, or W × 24 h ÷ 1000 × price per kWh × PUE (W measured by nvidia-smi or nameplate)
 *   tokens per day = given, or the measured capacity (tokens/s at the SLO knee) × 86 400 × target utilisation
 *   cost per N tokens = cost per day × N ÷ tokens per day;   1 audio minute = 60 s × 50 tokens/s = 3 000 tokens
 *
 * Prices: basic = cost × (1 + margin), with a peak multiplier = (ms per token at peak load) ÷ (ms per token off
 * peak), both measured; batch = basic less a discount of at least 30 %. Batch work waits in a queue and fills the
 * GPU's idle time, so its cost is that of a GPU run at its measured capacity (utilisation 1), not at the target
 * utilisation of interactive traffic; a batch price below that cost is flagged. Enterprise = a dedicated GPU for a month
 * (its whole cost, idle time included, × (1 + margin)), rounded up to a whole chargeable unit of the currency
 * (Stripe bills a fee as it is), with the tokens it can serve at the target utilisation included and the basic
 * price beyond them.
 */
import { currencyRules } from "../../../domain/money.ts";
import { Q } from "../core/rational.ts";

export const TOKENS_PER_AUDIO_SECOND = 50;
export const DAYS_PER_YEAR = 365;
export const MIN_BATCH_DISCOUNT_BP = 3000;
export const MAX_PEAK_MULTIPLIER_BP = 30_000;

export type Throughput =
  | { kind: "given"; tokensPerDay: Q }
  | { kind: "measured"; capacityTokensPerSecond: Q; targetUtilisation: Q };

export type Power =
  | { kind: "per-day"; costPerDay: Q }
  | { kind: "watts"; watts: Q; source: "measured" | "nameplate"; pricePerKwh: Q; pue: Q }
  | { kind: "none" };

export type Peak =
  | { kind: "measured"; peakMsPerToken: number; offPeakMsPerToken: number; peakLoad: string; offPeakLoad: string }
  | { kind: "assumed"; multiplierBp: number };

export interface CostInputs {
  currency: string;
  gpuPrice: Q;
  lifetimeYears: Q;
  power: Power;
  opsCostPerDay: Q;
  throughput: Throughput;
  margin: Q;
  /** a fraction, at least 0.30 */
  batchDiscount: Q;
  peak: Peak;
}

export interface PriceSet {
  per1kTokensMicros: number;
  per10kTokensMicros: number;
  per1MTokensMicros: number;
  perAudioMinuteMicros: number;
}

export interface CostResult {
  currency: string;
  perDay: { gpuMicros: number; powerMicros: number; opsMicros: number; totalMicros: number };
  powerNote: string;
  tokensPerDay: number;
  tokensNote: string;
  cost: PriceSet;
  basic: PriceSet;
  peak: { multiplierBp: number; note: string; measuredRatio: number | null };
  batch: PriceSet & { discountBp: number };
  /** cost per token of queued work that runs the GPU at its capacity (= cost when throughput was given) */
  batchCost: PriceSet;
  /** prices that do not cover their cost, and other things a reader must not miss */
  warnings: string[];
  enterprise: {
    monthlyFeeMicros: number;
    monthlyCostMicros: number;
    includedTokens: number;
    overagePer1kMicros: number;
  };
  margin: number;
}

const micros = (q: Q) => {
  const m = q.toMicros();
  if (m > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError("amount too large");
  return Number(m);
};

/** Up to the next multiple of `step` micros, in integers. */
const roundUpToStep = (m: number, step: number) => {
  const st = BigInt(step);
  return Number(((BigInt(m) + st - 1n) / st) * st);
};

function priceSet(perToken: Q): PriceSet {
  return {
    per1kTokensMicros: micros(perToken.mul(1000)),
    per10kTokensMicros: micros(perToken.mul(10_000)),
    per1MTokensMicros: micros(perToken.mul(1_000_000)),
    perAudioMinuteMicros: micros(perToken.mul(60 * TOKENS_PER_AUDIO_SECOND)),
  };
}

export function powerPerDay(p: Power): { perDay: Q; note: string } {
  switch (p.kind) {
    case "per-day":
      return { perDay: p.costPerDay, note: "given per day" };
    case "watts": {
      const kwh = p.watts.mul(24).div(1000);
      return {
        perDay: kwh.mul(p.pricePerKwh).mul(p.pue),
        note: `${p.watts.toFixed(1)} W (${p.source}) × 24 h = ${kwh.toFixed(2)} kWh/day × ${p.pricePerKwh.toFixed(4)} per kWh × PUE ${p.pue.toFixed(2)}`,
      };
    }
    case "none":
      return { perDay: Q.of(0), note: "not included: give --power-cost-per-day, or --gpu-watts with --kwh-price" };
  }
}

export function computeCost(i: CostInputs): CostResult {
  if (i.lifetimeYears.isZero()) throw new RangeError("the lifetime must be > 0 years");
  if (i.batchDiscount.cmp(Q.of(1)) >= 0) throw new RangeError("the batch discount must be below 100 %");
  const gpuPerDay = i.gpuPrice.div(i.lifetimeYears.mul(DAYS_PER_YEAR));
  const power = powerPerDay(i.power);
  const perDay = gpuPerDay.add(power.perDay).add(i.opsCostPerDay);

  const tokensPerDay =
    i.throughput.kind === "given"
      ? i.throughput.tokensPerDay
      : i.throughput.capacityTokensPerSecond.mul(86_400).mul(i.throughput.targetUtilisation);
  if (tokensPerDay.isZero()) throw new RangeError("tokens per day must be > 0 (no capacity was measured)");
  const tokensNote =
    i.throughput.kind === "given"
      ? "given"
      : `measured capacity ${i.throughput.capacityTokensPerSecond.toFixed(1)} tokens/s × 86,400 s × target utilisation ${i.throughput.targetUtilisation.toFixed(2)}`;

  const costPerToken = perDay.div(tokensPerDay);
  const basicPerToken = costPerToken.mul(Q.of(1).add(i.margin));

  let multiplierBp: number;
  let peakNote: string;
  let measuredRatio: number | null = null;
  if (i.peak.kind === "measured" && i.peak.offPeakMsPerToken > 0 && i.peak.peakMsPerToken > 0) {
    const ratio = Q.fromMeasured(i.peak.peakMsPerToken).div(Q.fromMeasured(i.peak.offPeakMsPerToken));
    measuredRatio = ratio.toNumber();
    const bp = Number(ratio.mul(10_000).round());
    multiplierBp = Math.min(MAX_PEAK_MULTIPLIER_BP, Math.max(10_000, bp));
    peakNote = `${i.peak.peakMsPerToken.toFixed(2)} ms/token at peak (${i.peak.peakLoad}) ÷ ${i.peak.offPeakMsPerToken.toFixed(2)} ms/token off peak (${i.peak.offPeakLoad}) = ×${ratio.toFixed(2)}${bp !== multiplierBp ? `, clamped to ×${(multiplierBp / 10_000).toFixed(2)}` : ""}`;
  } else {
    multiplierBp = i.peak.kind === "assumed" ? i.peak.multiplierBp : 10_000;
    peakNote = `×${(multiplierBp / 10_000).toFixed(2)} assumed, not measured (run a load test, or give --peak-ms-per-token and --offpeak-ms-per-token)`;
  }

  const discountBp = Math.max(MIN_BATCH_DISCOUNT_BP, Number(i.batchDiscount.mul(10_000).round()));
  const batchPerToken = basicPerToken.mul(Q.of(10_000 - discountBp, 10_000));
  const batchCostPerToken =
    i.throughput.kind === "measured" ? perDay.div(i.throughput.capacityTokensPerSecond.mul(86_400)) : costPerToken;
  const warnings: string[] = [];
  if (batchPerToken.cmp(batchCostPerToken) < 0) {
    warnings.push(
      `the batch price (basic −${discountBp / 100} %) is below the cost of batch work: lower --batch-discount or raise --margin`,
    );
  }

  const monthlyCost = perDay.mul(DAYS_PER_YEAR).div(12);
  const includedTokens = tokensPerDay.mul(DAYS_PER_YEAR).div(12).round();

  return {
    currency: i.currency,
    perDay: {
      gpuMicros: micros(gpuPerDay),
      powerMicros: micros(power.perDay),
      opsMicros: micros(i.opsCostPerDay),
      totalMicros: micros(perDay),
    },
    powerNote: power.note,
    tokensPerDay: Number(tokensPerDay.round()),
    tokensNote,
    cost: priceSet(costPerToken),
    basic: priceSet(basicPerToken),
    peak: { multiplierBp, note: peakNote, measuredRatio },
    batch: { ...priceSet(batchPerToken), discountBp },
    batchCost: priceSet(batchCostPerToken),
    warnings,
    enterprise: {
      monthlyCostMicros: micros(monthlyCost),
      monthlyFeeMicros: roundUpToStep(
        micros(monthlyCost.mul(Q.of(1).add(i.margin))),
        currencyRules(i.currency).microsPerStep,
      ),
      includedTokens: Number(includedTokens),
      overagePer1kMicros: micros(basicPerToken.mul(1000)),
    },
    margin: i.margin.toNumber(),
  };
}

/** The article's example: an RTX 3090 at ¥12,000 over 3 years, ¥3/day of power, 100 M tokens a day. */
export const ARTICLE_EXAMPLE = {
  currency: "CNY",
  gpuPrice: "12000",
  lifetimeYears: "3",
  powerCostPerDay: "3",
  tokensPerDay: "100000000",
  /** what the article printed, and the unit it printed it in */
  articleSaid: { amount: "0.14", per: "10k tokens" },
} as const;

export function articleExampleInputs(): CostInputs {
  return {
    currency: ARTICLE_EXAMPLE.currency,
    gpuPrice: Q.parse(ARTICLE_EXAMPLE.gpuPrice),
    lifetimeYears: Q.parse(ARTICLE_EXAMPLE.lifetimeYears),
    power: { kind: "per-day", costPerDay: Q.parse(ARTICLE_EXAMPLE.powerCostPerDay) },
    opsCostPerDay: Q.of(0),
    throughput: { kind: "given", tokensPerDay: Q.parse(ARTICLE_EXAMPLE.tokensPerDay) },
    margin: Q.of(0),
    batchDiscount: Q.of(3, 10),
    peak: { kind: "assumed", multiplierBp: 10_000 },
  };
}
