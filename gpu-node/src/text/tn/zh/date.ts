/**
 * WeTextProcessing's Chinese `Date` (tn/chinese/rules/date.py) with its range: y/m/d, d/m/y, y/mm, mm/y, mm/d.
 */
import type { Rule } from "../lattice.ts";
import { digitsAt, type Field, twoDigitValue, W, withRange } from "./common.ts";
import { digitAt, readDigit, readDigits } from "./number.ts";

const MONTH_ZH = (m: number): string => `${m === 10 ? "十" : m > 10 ? `十${readDigit(m - 10)}` : readDigit(m)}月`;
const DAY_ZH = (d: number): string => {
  const t = Math.floor(d / 10);
  const u = d % 10;
  return `${t === 0 ? "" : t === 1 ? "十" : `${readDigit(t)}十`}${u === 0 ? "" : readDigit(u)}日`;
};

/** yyyy: a non-zero digit and three digits, read one by one, + 年. */
function year(text: string, i: number): Field[] {
  const ds = digitsAt(text, i, 4);
  return ds === undefined || ds[0] === 0 ? [] : [{ end: i + 4, out: `${readDigits(ds)}年` }];
}
/** m | mm (1–12, 01–12); `twoDigit` only mm. */
function month(text: string, i: number, twoDigit = false): Field[] {
  const out: Field[] = [];
  const v = twoDigitValue(text, i);
  if (v !== undefined) {
    if (v >= 1 && v <= 12) out.push({ end: i + 2, out: MONTH_ZH(v) });
  }
  const one = digitAt(text, i);
  if (!twoDigit && one >= 1) out.push({ end: i + 1, out: MONTH_ZH(one) });
  return out;
}
/** d | dd (1–31, 01–31). */
function day(text: string, i: number): Field[] {
  const out: Field[] = [];
  const v = twoDigitValue(text, i);
  if (v !== undefined) {
    if (v >= 1 && v <= 31) out.push({ end: i + 2, out: DAY_ZH(v) });
  }
  const one = digitAt(text, i);
  if (one >= 1) out.push({ end: i + 1, out: DAY_ZH(one) });
  return out;
}
const DATE_SEPS = "/-.";
/** `rmsign` then a field: the separator is one of / - . */
const after = (text: string, f: Field, next: (i: number) => Field[]): Field[] =>
  DATE_SEPS.includes(text.charAt(f.end)) && f.end < text.length
    ? next(f.end + 1).map((g) => ({ end: g.end, out: f.out + g.out }))
    : [];

function singleDate(text: string, start: number): Field[] {
  const out: Field[] = [];
  for (const y of year(text, start)) {
    for (const ym of after(text, y, (i) => month(text, i))) out.push(...after(text, ym, (i) => day(text, i)));
    out.push(...after(text, y, (i) => month(text, i, true)));
  }
  for (const d of day(text, start)) {
    for (const dm of after(text, d, (i) => month(text, i))) {
      // verbalized year month day
      for (const yy of after(text, dm, (i) => year(text, i))) {
        const y = yy.out.slice(dm.out.length);
        out.push({ end: yy.end, out: y + dm.out.slice(d.out.length) + d.out });
      }
    }
  }
  for (const m of month(text, start, true)) {
    for (const my of after(text, m, (i) => year(text, i)))
      out.push({ end: my.end, out: my.out.slice(m.out.length) + m.out });
    out.push(...after(text, m, (i) => day(text, i)));
  }
  return out;
}

export const date: Rule = (text, start) =>
  withRange(text, start, (i) => singleDate(text, i)).map((f) => ({ end: f.end, weight: W.date, out: f.out }));
