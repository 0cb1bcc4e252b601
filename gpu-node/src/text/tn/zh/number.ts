/**
 * WeTextProcessing's Chinese `Cardinal.number` (tn/chinese/rules/cardinal.py): an optional sign, an integer of up to
 * 12 digits read with 十/百/千/万/亿 and 零 as the grammar places them, an optional decimal part read digit by digit,
 * "二百/二千/二万/二亿" at the start read 两, and the percent form. Half- and full-width digits both count.
 *
 * Why not an npm library (e.g. nzh, number-to-chinese-words): they differ from WeTextProcessing on exactly the cases
 * that decide token ids — 10 → 十 (not 一十), 200 → 两百, 1001 → 一千零一, 10011 → 一万零一十一 — and none offers the
 * grammar's partial readings that the path search needs.
 */

const DIGIT_ZH = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];

/** The value of a half- or full-width digit, or -1. */
export function digitAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0xff10 && c <= 0xff19) return c - 0xff10;
  return -1;
}

/** Length of the run of digits starting at `i`, counted up to `limit`. */
export function digitRun(text: string, i: number, limit = Number.POSITIVE_INFINITY): number {
  let j = i;
  while (j < text.length && j - i < limit && digitAt(text, j) >= 0) j++;
  return j - i;
}

/** `digits`: one digit, 0 → 零. */
export const readDigit = (d: number): string => DIGIT_ZH[d] as string;
/** A digit string read one by one (ids, years, decimals). */
export const readDigits = (ds: readonly number[]): string => ds.map(readDigit).join("");

// `ten` (10–19 read 十…, 20–99 read 二十…), `hundred`, `thousand`, on exact-length digit arrays with no leading 0.
const tens = (a: number, b: number): string => `${a === 1 ? "" : readDigit(a)}十${b === 0 ? "" : readDigit(b)}`;
const tensInner = (a: number, b: number): string => `${readDigit(a)}十${b === 0 ? "" : readDigit(b)}`;
function hundred(d: readonly number[]): string {
  const [a, b, c] = d as [number, number, number];
  let rest = "";
  if (b !== 0) rest = tensInner(b, c);
  else if (c !== 0) rest = `零${readDigit(c)}`;
  return `${readDigit(a)}百${rest}`;
}
function thousand(d: readonly number[]): string {
  const [a, b, c, e] = d as [number, number, number, number];
  let rest = "";
  if (b !== 0) rest = hundred([b, c, e]);
  else if (c !== 0) rest = `零${tensInner(c, e)}`;
  else if (e !== 0) rest = `零${readDigit(e)}`;
  return `${readDigit(a)}千${rest}`;
}
/** `four_nonzero` / `four_any`: exactly four digits inside a larger number ("" when all zero). */
function four(d: readonly number[]): string {
  const [a, b, c, e] = d as [number, number, number, number];
  if (a !== 0) return thousand(d);
  if (b !== 0) return `零${hundred([b, c, e])}`;
  if (c !== 0) return `零${tensInner(c, e)}`;
  if (e !== 0) return `零${readDigit(e)}`;
  return "";
}
/** A 1–4 digit group with no leading zero, as its own number (`thousand | hundred | ten | digit`). */
function group(d: readonly number[]): string {
  if (d.length === 1) return readDigit(d[0] as number);
  if (d.length === 2) return tens(d[0] as number, d[1] as number);
  if (d.length === 3) return hundred(d);
  return thousand(d);
}

/** The integer grammar; undefined where it has no reading (a leading 0, more than 12 digits). */
export function readInteger(d: readonly number[]): string | undefined {
  const k = d.length;
  if (k === 0 || k > 12) return undefined;
  if (k === 1) return readDigit(d[0] as number);
  if (d[0] === 0) return undefined;
  if (k <= 4) return group(d);
  if (k <= 8) return `${group(d.slice(0, k - 4))}万${four(d.slice(k - 4))}`;
  const low = d.slice(k - 8);
  const hi = low.slice(0, 4);
  const lo = low.slice(4);
  let rest: string;
  if (hi.some((x) => x !== 0)) rest = `${four(hi)}万${four(lo)}`;
  else if (lo[0] !== 0) rest = `零${thousand(lo)}`;
  else rest = four(lo);
  return `${group(d.slice(0, k - 8))}亿${rest}`;
}

const SIGNS: ReadonlyArray<readonly [string, string]> = [
  ["+", "正"],
  ["±", "正负"],
  ["-", "负"],
];

export interface NumberReading {
  readonly end: number;
  readonly out: string;
}

/** `two → 两` at the start of a number (the grammar's `[BOS]` rewrite). */
const LIANG_RE = /^二(?=[百千万亿])/;

/** `number`: sign? integer (. digits+)?, every reading that starts at `start` (longest first). */
export function readNumbers(text: string, start: number): NumberReading[] {
  const out: NumberReading[] = [];
  let i = start;
  let sign = "";
  for (const [w, s] of SIGNS) {
    if (text.startsWith(w, i)) {
      sign = s;
      i += w.length;
      break;
    }
  }
  // the integer has at most 12 digits; a 13th only says that a decimal part cannot follow
  const run = digitRun(text, i, 13);
  if (run === 0) return out;
  const digits: number[] = [];
  for (let k = 0; k < run; k++) digits.push(digitAt(text, i + k));
  for (let k = Math.min(run, 12); k >= 1; k--) {
    const integer = readInteger(digits.slice(0, k));
    if (integer === undefined) continue;
    const head = (sign + integer).replace(LIANG_RE, "两");
    const afterInt = i + k;
    if (text.charAt(afterInt) === ".") {
      const frac = digitRun(text, afterInt + 1);
      const fd: number[] = [];
      for (let m = 0; m < frac; m++) fd.push(digitAt(text, afterInt + 1 + m));
      // only the whole fraction: a shorter one would leave a digit that nothing but another number can read
      if (frac > 0) out.push({ end: afterInt + 1 + frac, out: `${head}点${readDigits(fd)}` });
    }
    out.push({ end: afterInt, out: head });
  }
  return out;
}

// Several rules read the number at the same position of the same text; the last text's readings are kept.
let cachedText = "";
let cached = new Map<number, NumberReading[]>();

/** `self.number`: 约? 人均? (number | 百分之 number %), every reading. */
export function readCardinalNumbers(text: string, start: number): NumberReading[] {
  if (text !== cachedText) {
    cachedText = text;
    cached = new Map();
  }
  let readings = cached.get(start);
  if (readings === undefined) {
    readings = readCardinalNumbersUncached(text, start);
    cached.set(start, readings);
  }
  return readings;
}

function readCardinalNumbersUncached(text: string, start: number): NumberReading[] {
  let i = start;
  let prefix = "";
  if (text.startsWith("约", i)) {
    prefix += "约";
    i += 1;
  }
  if (text.startsWith("人均", i)) {
    prefix += "人均";
    i += 2;
  }
  const out: NumberReading[] = [];
  for (const n of readNumbers(text, i)) {
    if (text.charAt(n.end) === "%") out.push({ end: n.end + 1, out: `${prefix}百分之${n.out}` });
    out.push({ end: n.end, out: prefix + n.out });
  }
  return out;
}
