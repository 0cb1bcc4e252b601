/**
 * WeTextProcessing's Chinese `Whitelist` (tn/chinese/rules/whitelist.py) and erhua.
 */
import type { Candidate, Rule } from "../lattice.ts";
import { WordList } from "../lattice.ts";
import { W } from "./common.ts";
import * as D from "./data.generated.ts";

const WHITELIST = new WordList([...D.WHITELIST, ...D.ERHUA_WHITELIST]);

export function whitelist(removeErhua: boolean): Rule {
  return (text, start) => {
    const out: Candidate[] = WHITELIST.matches(text, start).map(([w, s]) => ({
      end: start + w.length,
      weight: W.whitelist,
      out: s,
    }));
    if (text.charAt(start) === "儿")
      out.push({ end: start + 1, weight: W.whitelist + 0.1, out: removeErhua ? "" : "儿" });
    return out;
  };
}
