/**
 * WeTextProcessing's Chinese `Math` (tn/chinese/rules/math.py): numbers joined by operators; weight 90, so it also
 * reads every plain number that no better rule claims.
 */
import type { Candidate, Rule } from "../lattice.ts";
import { WordList } from "../lattice.ts";
import { optSpace, W } from "./common.ts";
import * as D from "./data.generated.ts";
import { type NumberReading, readCardinalNumbers } from "./number.ts";

const OPERATORS = new WordList([...D.MATH_OPERATOR, ["~", "到"], [":", "比"], ["<", "小于"], [">", "大于"]]);
const UNAMBIGUOUS = new WordList(D.MATH_OPERATOR_UNAMBIGUOUS);

export const math: Rule = (text, start) => {
  const out: Candidate[] = [];
  for (const [w, s] of UNAMBIGUOUS.matches(text, start)) out.push({ end: start + w.length, weight: W.math, out: s });
  // breadth-first over chains; each number takes its longest reading (the shorter ones only lose to more tokens)
  let frontier: NumberReading[] = readCardinalNumbers(text, start).slice(0, 1);
  const seen = new Set<number>();
  // up to 64 operators: a longer expression is read in several pieces (each still spelled out), which keeps the rule
  // linear where a run of "1+1+1…" would otherwise cost a chain walk from every position
  for (let depth = 0; frontier.length > 0 && depth <= 64; depth++) {
    const next: NumberReading[] = [];
    for (const chain of frontier) {
      if (seen.has(chain.end)) continue;
      seen.add(chain.end);
      out.push({ end: chain.end, weight: W.math, out: chain.out });
      for (const i of optSpace(text, chain.end)) {
        for (const [w, s] of OPERATORS.matches(text, i)) {
          for (const j of optSpace(text, i + w.length)) {
            const n = readCardinalNumbers(text, j)[0];
            if (n !== undefined) next.push({ end: n.end, out: chain.out + s + n.out });
          }
        }
      }
    }
    frontier = next;
  }
  return out;
};
