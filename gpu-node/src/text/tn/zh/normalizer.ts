/**
 * WeTextProcessing's Chinese text normaliser (tn/chinese/normalizer.py) in TypeScript: the tagger rules of ./*.ts (one file per upstream class)
 * searched for the cheapest reading (../lattice.ts), then the post-processor (traditional → simplified, interjections,
 * punctuation, full → half width, OOV tags) on what they say.
 */
import { cheapestPath, type Rule } from "../lattice.ts";
import { cardinal } from "./cardinal.ts";
import { char } from "./char.ts";
import * as D from "./data.generated.ts";
import { date } from "./date.ts";
import { fraction } from "./fraction.ts";
import { math } from "./math.ts";
import { measure } from "./measure.ts";
import { money } from "./money.ts";
import { sport } from "./sport.ts";
import { time } from "./time.ts";
import { whitelist } from "./whitelist.ts";

export interface ZhNormalizerOptions {
  /** Default true. IndexTTS2: true (not passed). */
  readonly traditionalToSimple?: boolean;
  /** Drop 呃 and 啊. Default true; IndexTTS2 passes false. */
  readonly removeInterjections?: boolean;
  /** Drop 儿 outside the erhua word list. Default true; IndexTTS2 passes false. */
  readonly removeErhua?: boolean;
  /** Default false. */
  readonly removePuncts?: boolean;
  /** Default true. */
  readonly fullToHalf?: boolean;
  /** Wrap characters outside the national standard charset in <oov>…</oov>. Default false. */
  readonly tagOov?: boolean;
}

/** The options IndexTTS2's `TextNormalizer.load()` builds its Chinese normaliser with (on Linux). */
export const INDEXTTS_ZH_OPTIONS: ZhNormalizerOptions = { removeInterjections: false, removeErhua: false };

const T2S = new Map(D.TRADITIONAL_TO_SIMPLE.map(([t, s]) => [t, s]));
const FULL2HALF = new Map(D.FULL_TO_HALF.map(([f, h]) => [f, h]));
const BLACKLIST = new Set(D.BLACKLIST.map(([w]) => w));
const PUNCTS = new Set(D.PUNCTUATIONS_ZH.map(([p]) => p));
const ASCII_PUNCT = new Set([..."!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"]);
const CHARSET = new Set([...D.CHARSET_STANDARD, ...D.CHARSET_EXTENSION].map(([c]) => c));
const inCharset = (c: string): boolean =>
  CHARSET.has(c) || PUNCTS.has(c) || /^[0-9A-Za-z \t\n\r\v\f\u00a0]$/.test(c) || ASCII_PUNCT.has(c);

export class ZhNormalizer {
  private readonly rules: readonly Rule[];
  private readonly options: Required<ZhNormalizerOptions>;

  constructor(options: ZhNormalizerOptions = {}) {
    this.options = {
      traditionalToSimple: options.traditionalToSimple ?? true,
      removeInterjections: options.removeInterjections ?? true,
      removeErhua: options.removeErhua ?? true,
      removePuncts: options.removePuncts ?? false,
      fullToHalf: options.fullToHalf ?? true,
      tagOov: options.tagOov ?? false,
    };
    // the order of tn/chinese/normalizer.py's RuleSpecs (it breaks ties)
    this.rules = [
      date,
      whitelist(this.options.removeErhua),
      sport,
      fraction,
      measure,
      money,
      time,
      cardinal,
      math,
      char,
    ];
  }

  normalize(text: string): string {
    if (text === "") return "";
    return cheapestPath(text, this.rules)
      .map((t) => this.postprocess(t.out))
      .join("");
  }

  /** tn/chinese/rules/postprocessor.py, character by character, in its order. */
  private postprocess(spoken: string): string {
    const o = this.options;
    let out = "";
    for (let c of spoken) {
      if (o.traditionalToSimple) c = T2S.get(c) ?? c;
      if (o.removeInterjections && BLACKLIST.has(c)) continue;
      if (o.removePuncts && (PUNCTS.has(c) || ASCII_PUNCT.has(c))) continue;
      if (o.fullToHalf) c = FULL2HALF.get(c) ?? c;
      if (o.tagOov && !inCharset(c)) c = `<oov>${c}</oov>`;
      out += c;
    }
    return out;
  }
}
