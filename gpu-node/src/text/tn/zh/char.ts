/**
 * WeTextProcessing's Chinese `Char`: any other character, as is (weight 100).
 */
import type { Rule } from "../lattice.ts";
import { W } from "./common.ts";

export const char: Rule = (text, start) => {
  const cp = text.codePointAt(start) as number;
  return [{ end: start + (cp > 0xffff ? 2 : 1), weight: W.char, out: String.fromCodePoint(cp) }];
};

// The range rule ("-" | "~" → 到) has no weight in the tagger union (RuleSpec(range_rule) only verbalizes), so it is
// used only inside date and time above.
