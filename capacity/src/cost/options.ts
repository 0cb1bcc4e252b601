/**
 * Cost inputs as the command line gives them (decimal text, parsed exactly), combined with what a run measured:
 * the capacity in tokens per second, the GPU's power draw at capacity, and the per-token time at peak and off peak.
 *
 * Without any GPU price, currency or power given, the article's card is used (RTX 3090, ¥12,000, 3 years, ¥3/day
 * of power), and the report says so.
 */
import { Q } from "../core/rational.ts";
import { money } from "./format.ts";
import { ARTICLE_EXAMPLE, type CostInputs, type Peak, type Power, type Throughput } from "./model.ts";

export interface CostOptions {
  currency?: string;
  gpuPrice?: string;
  lifetimeYears: string;
  powerCostPerDay?: string;
  /** nameplate board power, W (used when no power was measured) */
  gpuWatts?: string;
  kwhPrice?: string;
  pue: string;
  opsCostPerDay: string;
  /** the day's actual volume; replaces the measured capacity × utilisation */
  tokensPerDay?: string;
  targetUtilisation: string;
  margin: string;
  batchDiscount: string;
  /** a multiplier (×) to use instead of the measured one */
  peakMultiplier?: string;
  peakMsPerToken?: string;
  offPeakMsPerToken?: string;
  /** units of the currency per 1 USD, for the comparison with public (USD) prices */
  usdRate?: string;
}

/** An assumed rate for CNY (the article's currency) when none is given; stated as assumed wherever it is used. */
export const ASSUMED_CNY_PER_USD = "7.1";

/** The rate the comparison uses, and whether it was assumed; null when there is none for this currency. */
export function usdRateOf(o: CostOptions): { rate: string; assumed: boolean } | null {
  if (o.usdRate !== undefined) return { rate: o.usdRate, assumed: false };
  const c = currencyOf(o);
  if (c === "USD") return { rate: "1", assumed: false };
  if (c === "CNY") return { rate: ASSUMED_CNY_PER_USD, assumed: true };
  return null;
}

export const DEFAULT_COST_OPTIONS: CostOptions = {
  lifetimeYears: "3",
  pue: "1",
  opsCostPerDay: "0",
  targetUtilisation: "0.5",
  margin: "0.5",
  batchDiscount: "0.35",
};

/** The article's card stands in when the caller named no GPU price, currency or power. */
export function usesArticleDefaults(o: CostOptions): boolean {
  return (
    o.gpuPrice === undefined && o.currency === undefined && o.powerCostPerDay === undefined && o.kwhPrice === undefined
  );
}

export function currencyOf(o: CostOptions): string {
  return (o.currency ?? (usesArticleDefaults(o) ? ARTICLE_EXAMPLE.currency : "USD")).toUpperCase();
}

export interface Measured {
  capacityTokensPerSecond: number | null;
  measuredWatts: number | null;
  peak: { peakLoad: string; peakMsPerToken: number; offPeakLoad: string; offPeakMsPerToken: number } | null;
}

export function buildCostInputs(o: CostOptions, m: Measured): CostInputs {
  const article = usesArticleDefaults(o);
  const gpuPrice = Q.parse(o.gpuPrice ?? (article ? ARTICLE_EXAMPLE.gpuPrice : "0"));
  if (!article && o.gpuPrice === undefined) throw new RangeError("give --gpu-price");
  let power: Power = { kind: "none" };
  if (o.powerCostPerDay !== undefined) power = { kind: "per-day", costPerDay: Q.parse(o.powerCostPerDay) };
  else if (o.kwhPrice !== undefined && (m.measuredWatts !== null || o.gpuWatts !== undefined)) {
    power =
      m.measuredWatts !== null
        ? {
            kind: "watts",
            watts: Q.fromMeasured(m.measuredWatts, 1),
            source: "measured",
            pricePerKwh: Q.parse(o.kwhPrice),
            pue: Q.parse(o.pue),
          }
        : {
            kind: "watts",
            watts: Q.parse(o.gpuWatts ?? "0"),
            source: "nameplate",
            pricePerKwh: Q.parse(o.kwhPrice),
            pue: Q.parse(o.pue),
          };
  } else if (article) power = { kind: "per-day", costPerDay: Q.parse(ARTICLE_EXAMPLE.powerCostPerDay) };

  let throughput: Throughput;
  if (o.tokensPerDay !== undefined) throughput = { kind: "given", tokensPerDay: Q.parse(o.tokensPerDay) };
  else if (m.capacityTokensPerSecond !== null && m.capacityTokensPerSecond > 0) {
    throughput = {
      kind: "measured",
      capacityTokensPerSecond: Q.fromMeasured(m.capacityTokensPerSecond, 3),
      targetUtilisation: Q.parse(o.targetUtilisation),
    };
  } else throw new RangeError("no capacity was measured; give --tokens-per-day");

  let peak: Peak;
  if (o.peakMultiplier !== undefined) {
    peak = { kind: "assumed", multiplierBp: Number(Q.parse(o.peakMultiplier).mul(10_000).round()) };
  } else if (o.peakMsPerToken !== undefined && o.offPeakMsPerToken !== undefined) {
    peak = {
      kind: "measured",
      peakMsPerToken: Number(o.peakMsPerToken),
      offPeakMsPerToken: Number(o.offPeakMsPerToken),
      peakLoad: "given",
      offPeakLoad: "given",
    };
  } else if (m.peak) peak = { kind: "measured", ...m.peak };
  else peak = { kind: "assumed", multiplierBp: 10_000 };

  const discount = Q.parse(o.batchDiscount);
  if (discount.cmp(Q.of(3, 10)) < 0)
    throw new RangeError("--batch-discount must be at least 0.30 (the batch plan is ≥ 30 % below basic)");
  return {
    currency: currencyOf(o),
    gpuPrice,
    lifetimeYears: Q.parse(o.lifetimeYears),
    power,
    opsCostPerDay: Q.parse(o.opsCostPerDay),
    throughput,
    margin: Q.parse(o.margin),
    batchDiscount: discount,
    peak,
  };
}

/** The inputs in words, for the report. */
export function describeCostInputs(o: CostOptions, i: CostInputs): string[] {
  const c = i.currency;
  const lines = [
    `GPU price ${money(i.gpuPrice.toMicros(), c, 0)} over ${i.lifetimeYears.toFixed(1)} years${usesArticleDefaults(o) ? " (the article's RTX 3090, since no --gpu-price was given)" : ""}`,
    `operations ${money(i.opsCostPerDay.toMicros(), c)}/day; margin ${(i.margin.toNumber() * 100).toFixed(0)} %; batch discount ${(i.batchDiscount.toNumber() * 100).toFixed(0)} %`,
  ];
  if (i.power.kind === "none")
    lines.push("power: not included (give --power-cost-per-day, or --kwh-price with a measured or --gpu-watts power)");
  if (i.power.kind === "per-day")
    lines.push(
      `power ${money(i.power.costPerDay.toMicros(), c)}/day (given${usesArticleDefaults(o) ? ": the article's ¥3/day" : ""})`,
    );
  if (i.throughput.kind === "measured") {
    lines.push(
      `throughput: the measured capacity at the SLO, run at a target utilisation of ${(i.throughput.targetUtilisation.toNumber() * 100).toFixed(0)} % (a GPU cannot be kept at its knee all day)`,
    );
  }
  return lines;
}
