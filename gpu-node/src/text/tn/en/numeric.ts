/**
 * WeTextProcessing's English cardinal, ordinal, decimal and fraction rules (tn/english/rules/{cardinal,ordinal,
 * decimal,fraction}.py) as span readers.
 */
import { numberAt, QUANTITIES, QUANTITY_ABBR, type Reading } from "./common.ts";
import * as D from "./data.generated.ts";
import { cardinalWithAnd, cardinalWords, ordinalize, plainCardinal, singleDigits } from "./number.ts";

/** Cardinal: -? digits → "negative …" (the verbalizer's preferred sign word). */
export function cardinal(text: string, start: number): Reading[] {
  const neg = text.charAt(start) === "-";
  const i = neg ? start + 1 : start;
  const n = numberAt(text, i);
  if (n === "") return [];
  const words = cardinalWords(n);
  if (words === undefined) return [];
  return [{ end: i + n.length, out: neg ? `negative ${words}` : words }];
}

const ORDINAL_RE = /(\d+)(st|nd|rd|th|ST|ND|RD|TH|ˢᵗ|ⁿᵈ|ʳᵈ|ᵗʰ)/y;

/** Ordinal: 1st, 22nd, 13th… (the suffix must agree with the number, as the grammar's formats require). */
export function ordinal(text: string, start: number): Reading[] {
  ORDINAL_RE.lastIndex = start;
  const m = ORDINAL_RE.exec(text);
  if (m === null) return [];
  const [all, digits = "", suffix = ""] = m;
  const s = suffix.toLowerCase().replace("ˢᵗ", "st").replace("ⁿᵈ", "nd").replace("ʳᵈ", "rd").replace("ᵗʰ", "th");
  const last = digits.slice(-1);
  const teen = digits.length >= 2 && digits.at(-2) === "1";
  const expected = teen ? "th" : last === "1" ? "st" : last === "2" ? "nd" : last === "3" ? "rd" : "th";
  if (s !== expected) return [];
  const words = plainCardinal(digits);
  return words === undefined ? [] : [{ end: start + all.length, out: ordinalize(words) }];
}

/** Fractional digits: one by one, 0 → "oh". */
const fractional = (digits: string): string => singleDigits(digits);

/** " million", "billion", (with `abbr`) "M", "bn"…: a quantity word after a number, with at most one space. */
export function quantityAfter(text: string, i: number, abbr: boolean): Reading[] {
  const out: Reading[] = [];
  for (const j of text.charAt(i) === " " ? [i + 1] : [i]) {
    const word = /[A-Za-z]+/y;
    word.lastIndex = j;
    const w = word.exec(text)?.[0];
    if (w === undefined) continue;
    const q = QUANTITIES.has(w) ? w : abbr ? QUANTITY_ABBR.get(w) : undefined;
    if (q !== undefined) out.push({ end: j + w.length, out: q });
  }
  return out;
}

/** `decimal.final_graph_wo_negative` with its quantity forms (`get_quantity`); `abbr` admits 1.5M / 3k. */
export function unsignedDecimal(text: string, start: number, abbr = false): Reading[] {
  const out: Reading[] = [];
  const intPart = numberAt(text, start);
  const intWords = intPart === "" ? "" : cardinalWithAnd(intPart);
  if (intWords === undefined) return out;
  const afterInt = start + intPart.length;
  if (text.charAt(afterInt) === "." && /\d/.test(text.charAt(afterInt + 1))) {
    const frac = numberAt(text, afterInt + 1, false);
    const end = afterInt + 1 + frac.length;
    const spoken = `${intWords === "" ? "" : `${intWords} `}point ${fractional(frac)}`;
    out.push({ end, out: spoken });
    for (const q of quantityAfter(text, end, abbr)) out.push({ end: q.end, out: `${spoken} ${q.out}` });
  } else if (/^[1-9]\d{0,2}$/.test(intPart)) {
    // an integer is a decimal only with a quantity after it ("1 billion"), 1–999, and not "thousand"
    const spoken = plainCardinal(intPart) as string;
    for (const q of quantityAfter(text, afterInt, abbr)) {
      if (q.out !== "thousand") out.push({ end: q.end, out: `${spoken} ${q.out}` });
    }
  }
  return out;
}

/** Decimal: -? … → "minus …". */
export function decimal(text: string, start: number): Reading[] {
  if (!/[\d.-]/.test(text.charAt(start))) return []; // a number, a point or a sign first
  const neg = text.charAt(start) === "-";
  const i = neg ? start + 1 : start;
  return unsignedDecimal(text, i).map((r) => ({ end: r.end, out: neg ? `minus ${r.out}` : r.out }));
}

const FRACTION_SYMBOLS = new Map(D.FRACTION_SYMBOL.map(([s, f]) => [s, f]));

/** numerator/denominator → "three quarters", "one half", "twenty three forty fourths". */
export function fractionWords(numerator: string, denominator: string): string | undefined {
  const num = plainCardinal(numerator);
  const den = plainCardinal(denominator);
  if (num === undefined || den === undefined) return undefined;
  let d = den === "one" ? "over one" : den === "two" ? "half" : den === "four" ? "quarter" : ordinalize(den);
  if (num !== "one") d = d === "half" ? "halves" : d === "over one" ? "over one" : `${d}s`;
  return `${num} ${d}`;
}

/** Fraction: (integer " ")? n/d (st|nd|rd|th)? | (integer " ")? ½. */
export function fraction(text: string, start: number): Reading[] {
  if (!/[\d¼-¾⅐-⅞]/.test(text.charAt(start))) return []; // a number or a fraction sign first
  const out: Reading[] = [];
  const bodies = (i: number): Reading[] => {
    const res: Reading[] = [];
    const sym = FRACTION_SYMBOLS.get(text.charAt(i));
    if (sym !== undefined) {
      const [n = "", d = ""] = sym.split("/");
      const w = fractionWords(n, d);
      if (w !== undefined) res.push({ end: i + 1, out: w });
    }
    const n = numberAt(text, i, false);
    if (n === "") return res;
    let j = i + n.length;
    if (text.startsWith(" / ", j)) j += 3;
    else if (text.charAt(j) === "/") j += 1;
    else return res;
    const d = numberAt(text, j, false);
    if (d === "") return res;
    const w = fractionWords(n, d);
    if (w === undefined) return res;
    const end = j + d.length;
    const suffix = /(st|nd|rd|th|ST|ND|RD|TH)/y;
    suffix.lastIndex = end;
    const s = suffix.exec(text)?.[0];
    res.push({ end, out: w });
    if (s !== undefined) res.push({ end: end + s.length, out: w });
    return res;
  };
  for (const b of bodies(start)) out.push(b);
  const integer = numberAt(text, start, false);
  if (integer !== "" && text.charAt(start + integer.length) === " ") {
    const iw = plainCardinal(integer);
    if (iw !== undefined) {
      for (const b of bodies(start + integer.length + 1)) {
        out.push({ end: b.end, out: `${iw} and ${b.out}`.replace(/and one half$/, "and a half") });
      }
    }
  }
  return out;
}
