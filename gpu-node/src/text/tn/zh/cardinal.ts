/**
 * WeTextProcessing's Chinese `Cardinal` tagger (tn/chinese/rules/cardinal.py): IP-like digit strings, percentages,
 * dashed numbers and phone numbers read digit by digit (1 → 幺). Plain numbers are read by `math`, as upstream.
 */
import type { Candidate, Rule } from "../lattice.ts";
import { WordList } from "../lattice.ts";
import { digitsAt, W } from "./common.ts";
import * as D from "./data.generated.ts";
import { digitRun, readCardinalNumbers, readDigits } from "./number.ts";

const PHONE = new WordList(D.PHONE);
const readPhoneDigits = (ds: readonly number[]): string => readDigits(ds).replaceAll("一", "幺");

export const cardinal: Rule = (text, start) => {
  const out: Candidate[] = [];
  const run = digitRun(text, start, 64);
  // well-known short numbers and 11-digit mobiles (weight −1 inside the rule), 尾号(是|为)? + 4 digits
  for (const [w, s] of PHONE.matches(text, start)) out.push({ end: start + w.length, weight: W.cardinal - 1, out: s });
  if (run >= 11) {
    out.push({ end: start + 11, weight: W.cardinal - 1, out: readPhoneDigits(digitsAt(text, start, 11) as number[]) });
  }
  if (text.startsWith("尾号", start)) {
    for (const mid of ["是", "为", ""]) {
      const i = start + 2 + mid.length;
      if (mid !== "" && !text.startsWith(mid, start + 2)) continue;
      const ds = digitsAt(text, i, 4);
      if (ds !== undefined) out.push({ end: i + 4, weight: W.cardinal - 1, out: `尾号${mid}${readPhoneDigits(ds)}` });
    }
  }
  if (run === 0) {
    if ("+±-约人".includes(text.charAt(start))) {
      for (const n of readCardinalNumbers(text, start)) {
        if (text.charAt(n.end - 1) === "%") out.push({ end: n.end, weight: W.cardinal, out: n.out });
      }
    }
    return out;
  }
  // digits+ (. digits+){3}: IPs and version strings, digit by digit
  const groups = dottedGroups(text, start);
  if (groups.length >= 4) {
    out.push({
      end: groups[3]?.end as number,
      weight: W.cardinal,
      out: groups
        .slice(0, 4)
        .map((g) => g.out)
        .join("点"),
    });
  }
  // percent
  for (const n of readCardinalNumbers(text, start)) {
    if (text.charAt(n.end - 1) === "%") out.push({ end: n.end, weight: W.cardinal, out: n.out });
  }
  // digits+ (- digits+){2}, and ddd-dddddddd
  const dashed = dashGroups(text, start);
  for (let k = 3; k <= dashed.length; k++) {
    if (k === 3)
      out.push({
        end: dashed[2]?.end as number,
        weight: W.cardinal,
        out: dashed
          .slice(0, 3)
          .map((g) => g.out)
          .join(""),
      });
  }
  if (dashed.length >= 2 && dashed[0]?.len === 3 && (dashed[1]?.len as number) >= 8) {
    out.push({
      end: (dashed[0]?.end as number) + 1 + 8,
      weight: W.cardinal,
      out:
        readDigits(digitsAt(text, start, 3) as number[]) +
        readDigits(digitsAt(text, (dashed[0]?.end as number) + 1, 8) as number[]),
    });
  }
  return out;
};

interface Group {
  readonly end: number;
  readonly len: number;
  readonly out: string;
}
/** Up to four digit groups joined by `sep` (the grammar reads at most four: a.b.c.d, a-b-c). */
function separatedGroups(text: string, start: number, sep: string): Group[] {
  const groups: Group[] = [];
  let i = start;
  while (groups.length < 4) {
    const run = digitRun(text, i, 64);
    if (run === 0) break;
    groups.push({ end: i + run, len: run, out: readDigits(digitsAt(text, i, run) as number[]) });
    i += run;
    if (text.charAt(i) !== sep || digitRun(text, i + 1, 1) === 0) break;
    i += 1;
  }
  return groups;
}
const dottedGroups = (text: string, start: number): Group[] => separatedGroups(text, start, ".");
const dashGroups = (text: string, start: number): Group[] => separatedGroups(text, start, "-");
