/**
 * WeTextProcessing's English `Date` (tn/english/rules/date.py): years (1000–2999, 's, B.C.), "'70s", financial periods
 * (1H23, 3Q22), month-name dates (jan. 5, 2012 / 5 january 2012 / December 2011) and numeric y-m-d, m-d-y, d-m-y —
 * all said "the fifth of january twenty twelve", as its verbalizer orders them.
 */

import { WordList } from "../lattice.ts";
import { MONTH_NUMBER, MONTHS, type Reading } from "./common.ts";
import * as D from "./data.generated.ts";
import { ordinalize, plainCardinal, twoDigitWords, yearWords } from "./number.ts";

const YEAR_SUFFIX = new WordList([...D.YEAR_SUFFIX, ...D.YEAR_SUFFIX.map(([w, s]) => [`${w}.`, s] as const)]);

/** `year_graph`: 1000–2999 (+ "s"), '70s, and a year with AD/BC. Weight inside the date rule: 0. */
export function year(text: string, start: number): Reading[] {
  const out: Reading[] = [];
  const four = /[12]\d{3}/y;
  four.lastIndex = start;
  const m = four.exec(text);
  if (m !== null && !/\d/.test(text.charAt(start + 4))) {
    const words = yearWords(m[0]) as string;
    out.push({ end: start + 4, out: words });
    const s = text.startsWith(" s", start + 4) ? 2 : text.charAt(start + 4) === "s" ? 1 : 0;
    if (s > 0 && m[0].endsWith("0")) {
      out.push({ end: start + 4 + s, out: words.endsWith("y") ? `${words.slice(0, -1)}ies` : `${words}s` });
    }
    for (const i of text.charAt(start + 4) === " " ? [start + 5, start + 4] : [start + 4]) {
      for (const [w, suffix] of YEAR_SUFFIX.matches(text, i))
        out.push({ end: i + w.length, out: `${words} ${suffix}` });
    }
  }
  const decade = /'?([2-9])0s/y;
  decade.lastIndex = start;
  const d = decade.exec(text);
  if (d !== null) out.push({ end: start + d[0].length, out: twoDigitWords(Number(d[1]) * 10).replace(/y$/, "ies") });
  return out;
}

/** `day_graph`: (the )? 0? 1–31 (st|nd|rd|th)? → ordinal words. */
function day(text: string, start: number): Reading[] {
  const re = /(?:the )?0?(3[01]|[12]\d|[1-9])(?:st|nd|rd|th|ST|ND|RD|TH)?/y;
  re.lastIndex = start;
  const out: Reading[] = [];
  const m = re.exec(text);
  if (m === null) return out;
  const spoken = ordinalize(plainCardinal(m[1] as string) as string);
  // also the shorter spans (without the suffix)
  const full = m[0];
  const bare = full.replace(/(?:st|nd|rd|th|ST|ND|RD|TH)$/, "");
  out.push({ end: start + full.length, out: spoken });
  if (bare !== full) out.push({ end: start + bare.length, out: spoken });
  return out;
}

/** A month name or abbreviation, with one following punctuation mark deleted ("jan."). */
function monthName(text: string, start: number): Reading[] {
  const out: Reading[] = [];
  for (const [w, name] of MONTHS.matches(text, start)) {
    const end = start + w.length;
    if (/[A-Za-z]/.test(text.charAt(end))) continue;
    out.push({ end, out: name });
    if (/\p{P}/u.test(text.charAt(end))) out.push({ end: end + 1, out: name });
  }
  return out;
}

/** `year_after_graph`: " 2012" or ", 2012" (a trailing comma deleted). */
function yearAfter(text: string, start: number): Reading[] {
  const out: Reading[] = [];
  const forms: Array<[number, string]> = [];
  if (text.charAt(start) === " ") forms.push([start + 1, ""]);
  if (text.charAt(start) === ",") forms.push([text.charAt(start + 1) === " " ? start + 2 : start + 1, ","]);
  for (const [i, comma] of forms) {
    for (const y of year(text, i)) {
      out.push({ end: y.end, out: `${comma} ${y.out}` });
      if (text.charAt(y.end) === ",") out.push({ end: y.end + 1, out: `${comma} ${y.out}` });
    }
  }
  return out;
}

const spokenDate = (d: string | undefined, month: string, y: string | undefined): string =>
  `${d === undefined ? "" : `the ${d} of `}${month}${y === undefined ? "" : y.startsWith(",") ? y : ` ${y.trimStart()}`}`;

function structured(text: string, start: number): Reading[] {
  const out: Reading[] = [];
  // month-first: "jan. 5", "jan. 5, 2012", "December 2011"
  for (const m of monthName(text, start)) {
    for (const y of yearAfter(text, m.end)) out.push({ end: y.end, out: spokenDate(undefined, m.out, y.out) });
    const dayStarts = text.charAt(m.end) === " " ? [m.end + 1] : text.charAt(m.end) === "-" ? [m.end + 1] : [];
    for (const i of dayStarts) {
      for (const d of day(text, i)) {
        out.push({ end: d.end, out: spokenDate(d.out, m.out, undefined) });
        for (const y of yearAfter(text, d.end)) out.push({ end: y.end, out: spokenDate(d.out, m.out, y.out) });
      }
    }
  }
  // day-first: "5 january", "5 january 2012"
  for (const d of day(text, start)) {
    if (text.charAt(d.end) !== " ") continue;
    for (const m of monthName(text, d.end + 1)) {
      out.push({ end: m.end, out: spokenDate(d.out, m.out, undefined) });
      for (const y of yearAfter(text, m.end)) out.push({ end: y.end, out: spokenDate(d.out, m.out, y.out) });
    }
  }
  // numeric, one separator kind throughout: y-m-d, m-d-y, d-m-y (d not a month number)
  const numeric = /(\d{1,4})([-/.])(\d{1,2})\2(\d{1,4})(?!\d)/y;
  numeric.lastIndex = start;
  const n = numeric.exec(text);
  if (n !== null) {
    const [all, a = "", , b = "", c = ""] = n;
    const end = start + all.length;
    const dayOf = (s: string): string | undefined => {
      const v = Number(s);
      return /^\d{1,2}$/.test(s) && v >= 1 && v <= 31 ? ordinalize(plainCardinal(String(v)) as string) : undefined;
    };
    const y4 = (s: string): string | undefined => (s.length === 4 ? yearWords(s) : undefined);
    const ymd = [y4(a), MONTH_NUMBER.get(b), dayOf(c)];
    const mdy = [y4(c), MONTH_NUMBER.get(a), dayOf(b)];
    const dmy = [y4(c), a.length === 2 && !MONTH_NUMBER.has(a) ? MONTH_NUMBER.get(b) : undefined, dayOf(a)];
    for (const [y, m, d] of [ymd, mdy, dmy]) {
      if (y !== undefined && m !== undefined && d !== undefined) {
        out.push({ end, out: spokenDate(d, m, y), weight: -1 });
        break;
      }
    }
  }
  return out.map((r) => ({ ...r, weight: (r.weight ?? 0) - 0.1 }));
}

/** Financial periods: 1H23 → "the first half of twenty three", 3Q22 → "the third quarter of twenty two". */
function period(text: string, start: number): Reading[] {
  const re = /([1-4])([HQ])(\d{2})(?!\d)/y;
  re.lastIndex = start;
  const m = re.exec(text);
  if (m === null || (m[2] === "H" && Number(m[1]) > 2)) return [];
  const nth = ["", "first", "second", "third", "fourth"][Number(m[1])];
  const y = m[3] as string;
  const spokenYear = y.startsWith("0") ? `oh ${twoDigitWords(Number(y))}` : twoDigitWords(Number(y));
  return [{ end: start + m[0].length, out: `the ${nth} ${m[2] === "H" ? "half" : "quarter"} of ${spokenYear}` }];
}

export function date(text: string, start: number): Reading[] {
  if (!/[\d'A-Za-z]/.test(text.charAt(start))) return []; // a number, a month or '70s first
  return [...structured(text, start), ...year(text, start), ...period(text, start)];
}
