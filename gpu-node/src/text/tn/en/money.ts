/**
 * WeTextProcessing's English `Money` (tn/english/rules/money.py): "$1" → "one dollar", "$12.05" → "twelve point oh five
 * dollars", "$1.2 million" → "one point two million dollars"; zero cents dropped, trailing zeros trimmed.
 */
import { CURRENCY, numberAt, type Reading, SUPPLETIVE } from "./common.ts";
import { cardinalWithAnd, pluralize, singleDigits } from "./number.ts";
import { quantityAfter, unsignedDecimal } from "./numeric.ts";

export function money(text: string, start: number): Reading[] {
  const out: Reading[] = [];
  const seen = new Set<string>();
  for (const [symbol, name] of CURRENCY.matches(text, start)) {
    // "$" is listed as "dollar" and "us dollar"; the first listed wins, as the grammar's tie does
    if (seen.has(symbol)) continue;
    seen.add(symbol);
    const i = start + symbol.length;
    const plural = pluralize(name, SUPPLETIVE);
    const integer = numberAt(text, i);
    if (integer !== "") {
      const afterInt = i + integer.length;
      const zeroCents = /\.0+(?!\d)/y;
      zeroCents.lastIndex = afterInt;
      const z = zeroCents.exec(text)?.[0] ?? "";
      const words = integer === "1" ? "one" : cardinalWithAnd(integer);
      if (words !== undefined) {
        const unit = integer === "1" ? name : plural;
        out.push({ end: afterInt, out: `${words} ${unit}` });
        if (z !== "") out.push({ end: afterInt + z.length, out: `${words} ${unit}` });
      }
    }
    // a non-zero fraction, its trailing zeros not said ("$12.0500" → "twelve point oh five dollars"), quantity optional
    const dec = /(\d{1,3}(?:,\d{3})+|\d+)?\.(\d*[1-9])0*(?!\d)/y;
    dec.lastIndex = i;
    const m = dec.exec(text);
    if (m !== null) {
      const intWords = m[1] === undefined ? "" : cardinalWithAnd(m[1]);
      if (intWords !== undefined) {
        const spoken = `${intWords === "" ? "" : `${intWords} `}point ${singleDigits(m[2] as string)}`;
        const end = i + m[0].length;
        out.push({ end, out: `${spoken} ${plural}` });
        for (const q of quantityAfter(text, end, true)) out.push({ end: q.end, out: `${spoken} ${q.out} ${plural}` });
      }
    }
    // an integer with a quantity ("$1 million")
    for (const d of unsignedDecimal(text, i, true)) {
      if (!text.slice(i, d.end).includes(".")) out.push({ end: d.end, out: `${d.out} ${plural}` });
    }
  }
  return out;
}
