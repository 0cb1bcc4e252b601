/**
 * WeTextProcessing's Chinese `Time` (tn/chinese/rules/time.py) with its range: h:mm(:ss)? (am|pm)?.
 */
import type { Rule } from "../lattice.ts";
import { WordList } from "../lattice.ts";
import { type Field, optSpace, twoDigitValue, W, withRange } from "./common.ts";
import * as D from "./data.generated.ts";
import { digitAt, readDigit } from "./number.ts";

const NOON = new WordList(D.TIME_NOON);
const HOUR_ZH = (h: number): string => (h === 2 ? "两点" : `${h === 0 ? "零" : (readIntegerSmall(h) as string)}点`);
function readIntegerSmall(v: number): string {
  if (v < 10) return readDigit(v);
  const t = Math.floor(v / 10);
  const u = v % 10;
  return `${t === 1 ? "" : readDigit(t)}十${u === 0 ? "" : readDigit(u)}`;
}
function hour(text: string, i: number): Field[] {
  const out: Field[] = [];
  const v = twoDigitValue(text, i);
  if (v !== undefined) {
    if (v <= 24) out.push({ end: i + 2, out: HOUR_ZH(v) });
  }
  const one = digitAt(text, i);
  if (one >= 1) out.push({ end: i + 1, out: HOUR_ZH(one) });
  return out;
}
function twoDigits(text: string, i: number, unit: "分" | "秒"): Field[] {
  const v = twoDigitValue(text, i);
  if (v === undefined || v > 59) return [];
  if (v === 0) return [{ end: i + 2, out: "" }];
  const spoken = v < 10 ? (unit === "分" ? `零${readDigit(v)}` : readDigit(v)) : readIntegerSmall(v);
  return [{ end: i + 2, out: spoken + unit }];
}
const isColon = (c: string): boolean => c === ":" || c === "：";

function singleTime(text: string, start: number): Field[] {
  const out: Field[] = [];
  for (const h of hour(text, start)) {
    if (!isColon(text.charAt(h.end))) continue;
    for (const m of twoDigits(text, h.end + 1, "分")) {
      const hm = { end: m.end, out: h.out + m.out };
      const withSeconds: Field[] = [hm];
      if (isColon(text.charAt(m.end))) {
        for (const s of twoDigits(text, m.end + 1, "秒")) withSeconds.push({ end: s.end, out: hm.out + s.out });
      }
      for (const t of withSeconds) {
        out.push(t);
        for (const i of optSpace(text, t.end)) {
          for (const [w, s] of NOON.matches(text, i)) out.push({ end: i + w.length, out: s + t.out });
        }
      }
    }
  }
  return out;
}

export const time: Rule = (text, start) =>
  withRange(text, start, (i) => singleTime(text, i)).map((f) => ({ end: f.end, weight: W.time, out: f.out }));
