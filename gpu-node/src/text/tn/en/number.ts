/**
 * English number words as WeTextProcessing's English grammar says them (tn/english/rules/cardinal.py, whose number
 * names come from NeMo's cardinal_number_name.far): "one hundred twenty three", with the grammar's preferred variants
 * applied — "and" after the last "hundred" when no thousand/million follows, "thousand and" when no hundred follows,
 * and a leading "one thousand" said "thousand" (`1001` → "thousand and one").
 *
 * Why not an npm library (number-to-words, written-number…): they say "one thousand one" / "one hundred one" and have
 * no switch for these variants, which decide the spoken text and so the token ids.
 */

const ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];
const TEENS = [
  "ten",
  "eleven",
  "twelve",
  "thirteen",
  "fourteen",
  "fifteen",
  "sixteen",
  "seventeen",
  "eighteen",
  "nineteen",
];
const TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];
/** tn/english/data/number/thousand.tsv, in order */
const SCALES = ["", "thousand", "million", "billion", "trillion", "quadrillion", "quintillion", "sextillion"];

export const digitWord = (d: number): string => ONES[d] as string;

/** 0–99 */
export function twoDigitWords(v: number): string {
  if (v < 10) return ONES[v] as string;
  if (v < 20) return TEENS[v - 10] as string;
  const t = TENS[Math.floor(v / 10)] as string;
  return v % 10 === 0 ? t : `${t} ${ONES[v % 10]}`;
}

/** 1–999, the FAR's form: "one hundred twenty three" */
function threeDigitWords(v: number): string {
  const h = Math.floor(v / 100);
  const r = v % 100;
  if (h === 0) return twoDigitWords(r);
  return r === 0 ? `${ONES[h]} hundred` : `${ONES[h]} hundred ${twoDigitWords(r)}`;
}

/** `cardinal.graph`: a digit string with no leading zero (or "0") → words; undefined beyond the scales. */
export function plainCardinal(digits: string): string | undefined {
  if (!/^\d+$/.test(digits) || (digits.length > 1 && digits.startsWith("0"))) return undefined;
  if (digits === "0") return "zero";
  const groups: number[] = [];
  for (let end = digits.length; end > 0; end -= 3) groups.unshift(Number(digits.slice(Math.max(0, end - 3), end)));
  if (groups.length > SCALES.length) return undefined;
  const words: string[] = [];
  groups.forEach((g, i) => {
    if (g === 0) return;
    const scale = SCALES[groups.length - 1 - i] as string;
    words.push(scale === "" ? threeDigitWords(g) : `${threeDigitWords(g)} ${scale}`);
  });
  return words.join(" ");
}

/** `add_optional_and`: the preferred (negative-weight) "hundred and" / "thousand and". */
export function withAnd(words: string): string {
  const hundred = words.lastIndexOf("hundred ");
  if (hundred >= 0) {
    const rest = words.slice(hundred + 8);
    if (!rest.includes("thousand") && !rest.includes("million")) {
      return `${words.slice(0, hundred)}hundred and ${rest}`;
    }
  }
  const thousand = words.lastIndexOf("thousand ");
  if (thousand >= 0) {
    const rest = words.slice(thousand + 9);
    if (!rest.includes("hundred")) return `${words.slice(0, thousand)}thousand and ${rest}`;
  }
  return words;
}

/**
 * `Cardinal.final_graph` (non-deterministic, best path): digits with optional thousands commas → words, "and" added,
 * "one thousand…" → "thousand…"; leading zeros said "oh" one by one, then the rest.
 */
export function cardinalWords(written: string): string | undefined {
  let digits = written;
  if (/^\d{1,3}(,\d{3})+$/.test(written)) digits = written.replaceAll(",", "");
  if (!/^\d+$/.test(digits)) return undefined;
  if (digits.length > 1 && digits.startsWith("0")) {
    const zeros = /^0+/.exec(digits)?.[0] as string;
    const rest = digits.slice(zeros.length);
    const ohs = Array.from(zeros, () => "oh").join(" ");
    if (rest === "") return ohs;
    const tail = cardinalWords(rest);
    return tail === undefined ? undefined : `${ohs} ${tail}`;
  }
  const plain = plainCardinal(digits);
  if (plain === undefined) return undefined;
  return withAnd(plain).replace(/^one thousand/, "thousand");
}

/** `cardinal.graph_with_and` (no "thousand" shortening, no leading zeros): the integer part of decimals and money. */
export function cardinalWithAnd(digits: string): string | undefined {
  const d = /^\d{1,3}(,\d{3})+$/.test(digits) ? digits.replaceAll(",", "") : digits;
  const plain = plainCardinal(d);
  return plain === undefined ? undefined : withAnd(plain);
}

/** `single_digits_graph` with "oh" for 0 (the lighter of the grammar's two forms). */
export const singleDigits = (digits: string): string =>
  Array.from(digits, (c) => (c === "0" ? "oh" : digitWord(Number(c)))).join(" ");

const ORDINAL_LAST: Record<string, string> = {
  one: "first",
  two: "second",
  three: "third",
  four: "fourth",
  five: "fifth",
  six: "sixth",
  seven: "seventh",
  eight: "eighth",
  nine: "ninth",
  twelve: "twelfth",
};

/** `Ordinal.suffix`: the last word of a cardinal made ordinal. */
export function ordinalize(words: string): string {
  const i = words.lastIndexOf(" ");
  const head = words.slice(0, i + 1);
  const last = words.slice(i + 1);
  const mapped = ORDINAL_LAST[last];
  if (mapped !== undefined) return head + mapped;
  if (last.endsWith("ty")) return `${head}${last.slice(0, -2)}tieth`;
  return `${words}th`;
}

/** tn/english/rules/date.py `get_ties_graph`: two digits of a year ("05" → "oh five"). */
function yearTies(v: number): string {
  if (v < 10) return `oh ${ONES[v]}`;
  return twoDigitWords(v);
}

/**
 * A four-digit year 1000–2999 (`_get_year_graph`): "twenty twelve", "nineteen hundred", "two thousand five".
 * X00Y years take the thousand form (the deterministic grammar's priority; both forms weigh the same otherwise).
 */
export function yearWords(digits: string): string | undefined {
  if (!/^[12]\d{3}$/.test(digits)) return undefined;
  const hi = Number(digits.slice(0, 2));
  const lo = Number(digits.slice(2));
  if (digits[1] === "0" && digits[2] === "0") {
    return digits[3] === "0"
      ? `${ONES[Number(digits[0])]} thousand`
      : `${ONES[Number(digits[0])]} thousand ${ONES[lo]}`;
  }
  if (lo === 0) return `${twoDigitWords(hi)} hundred`;
  return `${yearTies(hi)} ${yearTies(lo)}`;
}

/** Plural of a unit or currency name (measure.py SINGULAR_TO_PLURAL: suppletive list, then -ies, -es, -s). */
export function pluralize(word: string, suppletive: ReadonlyMap<string, string>): string {
  const s = suppletive.get(word);
  if (s !== undefined) return s;
  if (/[bcdfghjklmnpqrstvwxz]y$/.test(word)) return `${word.slice(0, -1)}ies`;
  if (/(s|sh|ch|x|z)$/.test(word)) return `${word}es`;
  return `${word}s`;
}
