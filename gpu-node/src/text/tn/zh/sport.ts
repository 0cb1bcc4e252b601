/**
 * WeTextProcessing's Chinese `Sport` (tn/chinese/rules/sport.py): team + score.
 */
import type { Candidate, Rule } from "../lattice.ts";
import { WordList } from "../lattice.ts";
import { optSpace, W } from "./common.ts";
import * as D from "./data.generated.ts";
import { readCardinalNumbers } from "./number.ts";

const TEAMS = new WordList([...D.SPORT_COUNTRY, ...D.SPORT_CLUB]);

export const sport: Rule = (text, start) => {
  const out: Candidate[] = [];
  for (const [w] of TEAMS.matches(text, start)) {
    for (const i of optSpace(text, start + w.length)) {
      for (const a of readCardinalNumbers(text, i)) {
        const sep = text.charAt(a.end);
        if (sep !== "/" && sep !== "-" && sep !== ":") continue;
        for (const b of readCardinalNumbers(text, a.end + 1)) {
          for (const e of optSpace(text, b.end)) out.push({ end: e, weight: W.sport, out: `${w}${a.out}比${b.out}` });
        }
      }
    }
  }
  return out;
};
