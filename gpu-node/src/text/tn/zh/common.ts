/**
 * What WeTextProcessing's Chinese rules share: their weights in the tagger union (tn/chinese/normalizer.py), digit
 * access and the optional space the grammars delete.
 */
import { digitAt } from "./number.ts";

export const W = {
  date: 1.02,
  whitelist: 1.03,
  sport: 1.04,
  fraction: 1.05,
  measure: 1.05,
  money: 1.05,
  time: 1.05,
  cardinal: 1.06,
  math: 90,
  char: 100,
} as const;

export const digitsAt = (text: string, i: number, n: number): number[] | undefined => {
  const ds: number[] = [];
  for (let k = 0; k < n; k++) {
    const d = digitAt(text, i + k);
    if (d < 0) return undefined;
    ds.push(d);
  }
  return ds;
};
/** `delete(" ").ques`: skip one optional space. */
export const optSpace = (text: string, i: number): number[] => (text.charAt(i) === " " ? [i, i + 1] : [i]);
export interface Field {
  readonly end: number;
  readonly out: string;
}

/** The value of the two digits at `i`, or undefined. */
export function twoDigitValue(text: string, i: number): number | undefined {
  const ds = digitsAt(text, i, 2);
  return ds === undefined ? undefined : (ds[0] as number) * 10 + (ds[1] as number);
}

/** The range rule around date and time: `tagger + ("-" | "~" → 到 + tagger).ques`. */
export function withRange(text: string, start: number, single: (i: number) => Field[]): Field[] {
  const out: Field[] = [];
  for (const a of single(start)) {
    out.push(a);
    const sep = text.charAt(a.end);
    if (sep === "-" || sep === "~")
      for (const b of single(a.end + 1)) out.push({ end: b.end, out: `${a.out}到${b.out}` });
  }
  return out;
}
