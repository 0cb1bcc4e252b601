/**
 * WeTextProcessing's English text normaliser (tn/english/normalizer.py) in TypeScript. The text is read as tokens
 * separated by spaces or punctuation; each token is one rule's reading (cardinal, date, money…, or a plain word at
 * weight 100) and the cheapest reading of the whole text wins, as the FST's shortest path does. Spacing follows the
 * verbalizer: a space between two readings, punctuation kept with the spaces around it.
 */
import { type Reading, W } from "./common.ts";
import { date } from "./date.ts";
import { measure } from "./measure.ts";
import { electronic, range, roman, serial, whitelist } from "./misc.ts";
import { money } from "./money.ts";
import { digitWord } from "./number.ts";
import { cardinal, decimal, fraction, fractionWords, ordinal } from "./numeric.ts";
import { telephone } from "./telephone.ts";
import { time } from "./time.ts";

type Reader = (text: string, start: number) => Reading[];

/** The classes, in tn/english/normalizer.py's order (it breaks ties), with their weights. */
export const EN_CLASSES: ReadonlyArray<readonly [string, Reader, number]> = [
  ["cardinal", cardinal, W.cardinal],
  ["ordinal", ordinal, W.ordinal],
  ["date", date, W.date],
  ["decimal", decimal, W.decimal],
  ["fraction", fraction, W.fraction],
  ["time", time, W.time],
  ["measure", measure, W.measure],
  ["money", money, W.money],
  ["telephone", telephone, W.telephone],
  ["electronic", electronic, W.electronic],
  ["serial", serial, W.serial],
  ["whitelist", whitelist, W.whitelist],
  ["range", range, W.range],
];

/** Rules WeTextProcessing tests on their own but leaves out of the normaliser. */
const STANDALONE: Record<string, Reader> = { roman };

// tn/english/rules/punctuation.py: Unicode punctuation (but [ ] ) and ASCII marks, less the symbols the whitelist says
const WHITELIST_SYMBOLS = new Set([..."&#@§™®©_%*+/=^|~$£€₩¥°º"]);
const isPunct = (c: string): boolean =>
  c !== "[" &&
  c !== "]" &&
  !WHITELIST_SYMBOLS.has(c) &&
  (/\p{P}/u.test(c) || "!#%&'()*+,-./:;<=>?@^_`{|}~\"\\".includes(c));
// tn/english/rules/word.py: not space, not punctuation, not a currency/percent/hash sign, not a digit
const isWordChar = (c: string): boolean => !/\s/.test(c) && !isPunct(c) && !"$€₩£¥#%".includes(c) && !/\d/.test(c);

/** A character no rule reads: kept, unless SentencePiece's NFKC would make digits of it (7, ½, ①). */
function sayAlone(ch: string): string {
  const folded = ch.normalize("NFKC");
  if (!/\d/.test(folded)) return ch;
  const fraction = /^(\d+)\u2044(\d+)$/.exec(folded);
  if (fraction !== null) return ` ${fractionWords(fraction[1] as string, fraction[2] as string) ?? ""} `;
  return folded.replace(/\d/g, (d) => ` ${digitWord(Number(d))} `);
}

type Kind = "classify" | "punct" | "space";

/**
 * Punctuation tokens: a run of marks (a run of two or more weighs 0.0001 less) with the spaces on either side, each
 * space −1 (punctuation.py keeps the spaces around a mark in the mark's token, and prefers to).
 */
function punctSteps(text: string, i: number): Step[] {
  let j = i;
  while (text.charAt(j) === " ") j++;
  const lead = j - i;
  let k = j;
  while (k < text.length && isPunct(text.charAt(k))) k++;
  const out: Step[] = [];
  // every split of a run costs more than one token for it, so only short tokens (where a reading may start right
  // after) and the runs ending near its end are offered: linear in the run's length
  const ends = new Set<number>();
  for (let end = j + 1; end <= Math.min(k, j + 4); end++) ends.add(end);
  for (let end = Math.max(j + 1, k - 3); end <= k; end++) ends.add(end);
  for (const end of ends) {
    const grouped = end - j > 1 ? -0.0001 : 0;
    let t = end;
    while (text.charAt(t) === " ") t++;
    for (const stop of t > end ? [end, t] : [end]) {
      const spaces = lead + (stop - end);
      out.push({ end: stop, weight: W.punct + grouped - spaces, out: text.slice(i, stop), kind: "punct" });
    }
  }
  return out;
}
interface Step {
  readonly end: number;
  readonly weight: number;
  readonly out: string;
  readonly kind: Kind;
}

function steps(text: string, i: number): Step[] {
  const out: Step[] = [];
  const c = text.charAt(i);
  if (/\s/.test(c)) {
    let j = i;
    while (j < text.length && /\s/.test(text.charAt(j))) j++;
    return [{ end: j, weight: 0, out: " ", kind: "space" }, ...punctSteps(text, i)];
  }
  // a reading can only follow a space or punctuation (or a character nothing else reads), so none starts inside a
  // word or a number: skipping those positions changes no result and saves most of the work
  const prev = text.charAt(i - 1);
  const tokenStart = i === 0 || !(isWordChar(prev) || /\d/.test(prev));
  for (const [, read, weight] of tokenStart ? EN_CLASSES : []) {
    for (const r of read(text, i)) {
      if (r.end > i) out.push({ end: r.end, weight: weight + (r.weight ?? 0), out: r.out, kind: "classify" });
    }
  }
  if (isWordChar(c)) {
    let j = i;
    while (j < text.length && isWordChar(text.charAt(j))) j++;
    // a word may hold characters SentencePiece would make digits of (½, ①): those are said (the one deviation)
    out.push({ end: j, weight: W.word, out: Array.from(text.slice(i, j), sayAlone).join(""), kind: "classify" });
  }
  out.push(...punctSteps(text, i));
  // nothing else reads it (a digit glued to a word, a stray symbol): said alone, at a prohibitive weight, so that a
  // digit is still never left as a digit
  const cp = text.codePointAt(i) as number;
  const ch = String.fromCodePoint(cp);
  out.push({ end: i + ch.length, weight: 1000, out: sayAlone(ch), kind: "punct" });
  return out;
}

/** The whole text, read as the English normaliser reads it. */
export function normalizeEnglish(text: string): string {
  const n = text.length;
  // best[i][k]: cheapest reading of text[0, i) whose last step is a classify token (k = 1) or not (k = 0)
  const cost = [
    new Float64Array(n + 1).fill(Number.POSITIVE_INFINITY),
    new Float64Array(n + 1).fill(Number.POSITIVE_INFINITY),
  ];
  const back: Array<Array<{ from: number; k: number; step: Step } | undefined>> = [new Array(n + 1), new Array(n + 1)];
  (cost[0] as Float64Array)[0] = 0;
  for (let i = 0; i < n; i++) {
    let atI: Step[] | undefined;
    for (const k of [0, 1]) {
      const here = (cost[k] as Float64Array)[i] as number;
      if (here === Number.POSITIVE_INFINITY) continue;
      atI ??= steps(text, i);
      for (const s of atI) {
        if (s.kind === "classify" && k === 1) continue; // two readings need a space or punctuation between them
        const nk = s.kind === "classify" ? 1 : 0;
        const total = here + s.weight;
        if (total < ((cost[nk] as Float64Array)[s.end] as number) - 1e-9) {
          (cost[nk] as Float64Array)[s.end] = total;
          (back[nk] as Array<{ from: number; k: number; step: Step } | undefined>)[s.end] = { from: i, k, step: s };
        }
      }
    }
  }
  let k = ((cost[0] as Float64Array)[n] as number) <= ((cost[1] as Float64Array)[n] as number) ? 0 : 1;
  const outs: string[] = [];
  for (let i = n; i > 0; ) {
    const b = (back[k] as Array<{ from: number; k: number; step: Step } | undefined>)[i];
    if (b === undefined) break;
    outs.push(b.step.out);
    i = b.from;
    k = b.k;
  }
  return outs.reverse().join("").replace(/ {2,}/g, " ").trim();
}

/** One class alone (as WeTextProcessing's per-class tests run it): the reading that spans the whole input. */
export function normalizeEnglishClass(cls: string, text: string): string | undefined {
  const read = EN_CLASSES.find(([name]) => name === cls)?.[1] ?? STANDALONE[cls];
  if (read === undefined) return undefined;
  let best: Reading | undefined;
  for (const r of read(text, 0))
    if (r.end === text.length && (best === undefined || (r.weight ?? 0) < (best.weight ?? 0))) best = r;
  return best?.out;
}
