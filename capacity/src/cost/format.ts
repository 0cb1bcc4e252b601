/** Money and number formatting for the cost output and the report (from integer micro-units, never floats). */
import { microsToText, Q } from "../core/rational.ts";
import { ARTICLE_EXAMPLE, articleExampleInputs, type CostResult, computeCost } from "./model.ts";

const SYMBOLS: Record<string, string> = { CNY: "¥", USD: "$", EUR: "€", GBP: "£" };

export function currencySymbol(currency: string): string {
  return SYMBOLS[currency.toUpperCase()] ?? `${currency.toUpperCase()} `;
}

const group = (digits: string) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");

/** micros → "¥13.96" with `digits` decimals and thousands separators. */
export function money(microsValue: number | bigint, currency: string, digits = 2): string {
  const text = microsToText(BigInt(microsValue), digits);
  const [whole = "0", frac] = text.split(".");
  return `${currencySymbol(currency)}${group(whole)}${frac !== undefined ? `.${frac}` : ""}`;
}

/** About two significant digits (whole units are kept), for "≈ ¥14/day", "≈ ¥0.14 per million tokens". */
export function approxMoney(microsValue: number, currency: string): string {
  const length = String(Math.round(microsValue)).length;
  const decimals = microsValue === 0 ? 0 : length > 6 ? Math.max(0, 2 - (length - 6)) : 6 - length + 2;
  return money(microsValue, currency, Math.min(6, decimals));
}

export const int = (n: number) => group(String(Math.round(n)));

/**
 * The article's example recomputed by the same model, and what went wrong in the article: the arithmetic gives its
 * figure per MILLION tokens, and the article printed it per 10k.
 */
export function articleCheck(): { result: CostResult; lines: string[] } {
  const r = computeCost(articleExampleInputs());
  const c = r.currency;
  const said = Q.parse(ARTICLE_EXAMPLE.articleSaid.amount).toMicros();
  const factor = 10 ** Math.round(Math.log10(Number(said) / r.cost.per10kTokensMicros));
  return {
    result: r,
    lines: [
      `The article's example: a ${money(Q.parse(ARTICLE_EXAMPLE.gpuPrice).toMicros(), c, 0)} GPU over ${ARTICLE_EXAMPLE.lifetimeYears} years is ${money(r.perDay.gpuMicros, c)}/day, plus ${money(r.perDay.powerMicros, c)}/day of power = ${money(r.perDay.totalMicros, c)}/day (≈ ${approxMoney(r.perDay.totalMicros, c)}/day).`,
      `At ${int(r.tokensPerDay)} tokens/day that is ${money(r.cost.per1MTokensMicros, c, 4)} per million tokens (≈ ${approxMoney(r.cost.per1MTokensMicros, c)}), i.e. ${money(r.cost.per10kTokensMicros, c, 4)} per 10k tokens.`,
      `The article wrote "${currencySymbol(c)}${ARTICLE_EXAMPLE.articleSaid.amount} per ${ARTICLE_EXAMPLE.articleSaid.per}": its figure is per MILLION tokens, not per 10k. The article slipped a unit (×${int(factor)}).`,
    ],
  };
}
