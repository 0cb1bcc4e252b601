/**
 * WeTextProcessing's English `Time` (tn/english/rules/time.py): "12:30 a.m. est" → "twelve thirty AM EST",
 * "02:00" → "two o'clock", "2 a.m." → "two AM", "10:00:05" → "ten hours zero minutes and five seconds".
 */
import { WordList } from "../lattice.ts";
import { type Reading, withPunctAtEnd } from "./common.ts";
import * as D from "./data.generated.ts";
import { twoDigitWords } from "./number.ts";

const SUFFIX = new WordList(withPunctAtEnd(D.TIME_SUFFIX));
const ZONE = new WordList(D.TIME_ZONE);

/** hour 0–23, a leading zero dropped */
function hour(text: string, i: number): Reading[] {
  const out: Reading[] = [];
  const two = /\d{2}/y;
  two.lastIndex = i;
  const t = two.exec(text)?.[0];
  if (t !== undefined && Number(t) <= 23) out.push({ end: i + 2, out: twoDigitWords(Number(t)) });
  if (/\d/.test(text.charAt(i))) out.push({ end: i + 1, out: twoDigitWords(Number(text.charAt(i))) });
  return out;
}
/** minutes/seconds: "00" (zero), "0d" (o d), 10–59 */
function minute(text: string, i: number): { end: number; value: number; out: string } | undefined {
  const two = /[0-5]\d/y;
  two.lastIndex = i;
  const t = two.exec(text)?.[0];
  if (t === undefined || /\d/.test(text.charAt(i + 2))) return undefined;
  const v = Number(t);
  return { end: i + 2, value: v, out: v === 0 ? "zero" : v < 10 ? `o ${twoDigitWords(v)}` : twoDigitWords(v) };
}
/** ` ?(a.m.|PM|…)`, spaces before it deleted */
function suffixAt(text: string, i: number): Reading[] {
  let j = i;
  while (text.charAt(j) === " ") j++;
  return SUFFIX.matches(text, j)
    .filter(([w]) => !/[A-Za-z]/.test(text.charAt(j + w.length)))
    .map(([w, s]) => ({ end: j + w.length, out: s }));
}
function zoneAt(text: string, i: number): Reading[] {
  let j = i;
  while (text.charAt(j) === " ") j++;
  return ZONE.matches(text, j)
    .filter(([w]) => !/[A-Za-z]/.test(text.charAt(j + w.length)))
    .map(([w, s]) => ({ end: j + w.length, out: s }));
}
/** optional suffix, then optional zone, each said after a space */
function tails(text: string, i: number, needSuffix: boolean): Array<{ end: number; suffix?: string; zone?: string }> {
  const out: Array<{ end: number; suffix?: string; zone?: string }> = [];
  const suffixes: Array<{ end: number; suffix?: string }> = needSuffix ? [] : [{ end: i }];
  for (const s of suffixAt(text, i)) suffixes.push({ end: s.end, suffix: s.out });
  for (const s of suffixes) {
    out.push(s);
    for (const z of zoneAt(text, s.end)) out.push({ ...s, end: z.end, zone: z.out });
  }
  return out;
}
const join = (...parts: Array<string | undefined>): string =>
  parts.filter((p) => p !== undefined && p !== "").join(" ");

export function time(text: string, start: number): Reading[] {
  const out: Reading[] = [];
  for (const h of hour(text, start)) {
    const sep = text.charAt(h.end);
    if (sep === ":" || sep === ".") {
      const m = minute(text, h.end + 1);
      if (m === undefined) continue;
      if (sep === ":" && text.charAt(m.end) === ":") {
        const s = minute(text, m.end + 1);
        if (s !== undefined) {
          for (const t of tails(text, s.end, false)) {
            const spoken = `${h.out} hours ${m.out} minutes and ${s.out} seconds`
              .replace(/(^| )o /g, "$1")
              .replace(/(^| )one (hour|minute|second)s/g, "$1one $2");
            out.push({ end: t.end, out: join(spoken, t.suffix, t.zone) });
          }
        }
      }
      for (const t of tails(text, m.end, sep === ".")) {
        if (m.value === 0) out.push({ end: t.end, out: join(h.out, t.suffix ?? "o'clock", t.zone) });
        else out.push({ end: t.end, out: join(h.out, m.out, t.suffix, t.zone) });
      }
    } else {
      for (const t of tails(text, h.end, true)) out.push({ end: t.end, out: join(h.out, t.suffix, t.zone) });
    }
  }
  return out;
}
