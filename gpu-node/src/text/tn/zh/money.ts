/**
 * WeTextProcessing's Chinese `Money` (tn/chinese/rules/money.py): currency + number → number + currency.
 */
import type { Candidate, Rule } from "../lattice.ts";
import { WordList } from "../lattice.ts";
import { optSpace, W } from "./common.ts";
import * as D from "./data.generated.ts";
import { readCardinalNumbers } from "./number.ts";

const CURRENCY = new WordList([...D.MONEY_CODE, ...D.MONEY_SYMBOL]);

export const money: Rule = (text, start) => {
  const out: Candidate[] = [];
  for (const [w, s] of CURRENCY.matches(text, start)) {
    for (const i of optSpace(text, start + w.length)) {
      for (const n of readCardinalNumbers(text, i)) out.push({ end: n.end, weight: W.money, out: n.out + s });
    }
  }
  return out;
};
