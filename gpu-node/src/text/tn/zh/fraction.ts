/**
 * WeTextProcessing's Chinese `Fraction` (tn/chinese/rules/fraction.py): a/b → b分之a.
 */
import type { Candidate, Rule } from "../lattice.ts";
import { optSpace, W } from "./common.ts";
import { readCardinalNumbers } from "./number.ts";

export const fraction: Rule = (text, start) => {
  const out: Candidate[] = [];
  for (const num of readCardinalNumbers(text, start)) {
    for (const i of optSpace(text, num.end)) {
      if (text.charAt(i) !== "/") continue;
      for (const j of optSpace(text, i + 1)) {
        for (const den of readCardinalNumbers(text, j)) {
          out.push({ end: den.end, weight: W.fraction, out: `${den.out}分之${num.out}` });
        }
      }
    }
  }
  return out;
};
