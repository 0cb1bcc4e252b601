/**
 * IndexTTS2's `TextNormalizer.normalize` (indextts/utils/front.py at index-tts@ee40fa7): the language decision, the
 * `'s` contractions, the optional glossary, the protections of ./protect.ts, WeTextProcessing's Chinese normaliser
 * (built as upstream builds it on Linux: interjections and erhua kept) or its English one, then upstream's character
 * map.
 */
import { normalizeEnglish } from "./en/normalizer.ts";
import {
  PINYIN_TONE_SOURCE,
  protectAnnotations,
  pyRstrip,
  restoreAnnotations,
  restoreNames,
  restorePinyinTones,
  restoreTechTerms,
  saveNames,
  savePinyinTones,
  saveTechTerms,
} from "./protect.ts";
import { INDEXTTS_ZH_OPTIONS, ZhNormalizer } from "./zh/normalizer.ts";

/**
 * `TextNormalizer.char_rep_map`, in its order: the alternation tries keys in this order at each position, as
 * Python's `re` does, so "，，，" becomes ",,," (the single "，" key comes first) while ",,," becomes "…".
 */
const CHAR_REPLACEMENTS: ReadonlyArray<readonly [string, string]> = [
  ["：", ","],
  ["；", ","],
  [";", ","],
  ["，", ","],
  ["。", "."],
  ["！", "!"],
  ["？", "?"],
  ["\n", " "],
  ["·", "-"],
  ["、", ","],
  ["...", "…"],
  [",,,", "…"],
  ["，，，", "…"],
  ["……", "…"],
  ["“", "'"],
  ["”", "'"],
  ['"', "'"],
  ["‘", "'"],
  ["’", "'"],
  ["（", "'"],
  ["）", "'"],
  ["(", "'"],
  [")", "'"],
  ["《", "'"],
  ["》", "'"],
  ["【", "'"],
  ["】", "'"],
  ["[", "'"],
  ["]", "'"],
  ["—", "-"],
  ["～", "-"],
  ["~", "-"],
  ["「", "'"],
  ["」", "'"],
  [":", ","],
];
/** `zh_char_rep_map`: "$" → "." first, then the same map. */
const ZH_CHAR_REPLACEMENTS: ReadonlyArray<readonly [string, string]> = [["$", "."], ...CHAR_REPLACEMENTS];

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
function replacer(table: ReadonlyArray<readonly [string, string]>): (text: string) => string {
  const map = new Map(table);
  const re = new RegExp(table.map(([from]) => escapeRegExp(from)).join("|"), "g");
  return (text) => text.replace(re, (m) => map.get(m) ?? m);
}
const applyCharMap = replacer(CHAR_REPLACEMENTS);
const applyZhCharMap = replacer(ZH_CHAR_REPLACEMENTS);

/** `ENGLISH_CONTRACTION_PATTERN`: "what's" → "what is" (deliberately not every 's). */
const CONTRACTION_RE = /(what|where|who|which|how|t?here|it|s?he|that|this)'s/gi;

/** One glossary entry: the same reading for both languages, or one per language. */
export type GlossaryEntry = string | { readonly en?: string; readonly zh?: string };
export type Glossary = Readonly<Record<string, GlossaryEntry>>;

export interface IndexTtsNormalizerOptions {
  /** IndexTTS2 reads `glossary.yaml` from the model directory when present (`enable_glossary=True`). */
  readonly glossary?: Glossary;
}

const EMAIL_RE = /^[a-zA-Z0-9]+@[a-zA-Z0-9]+\.[a-zA-Z]+$/;
const PINYIN_TEST_RE = new RegExp(PINYIN_TONE_SOURCE, "i");

/** `use_chinese`: Chinese characters, no Latin letters, an e-mail address, or pinyin with tones → the Chinese path. */
export function useChinese(text: string): boolean {
  if (/[\u4e00-\u9fff]/.test(text) || !/[a-zA-Z]/.test(text) || EMAIL_RE.test(text)) return true;
  return PINYIN_TEST_RE.test(text);
}

/** `apply_glossary_terms`: longest term first, case-insensitive. */
function applyGlossary(text: string, glossary: Glossary | undefined, lang: "en" | "zh"): string {
  if (glossary === undefined) return text;
  let out = text;
  for (const term of Object.keys(glossary).sort((a, b) => b.length - a.length)) {
    const value = glossary[term] as GlossaryEntry;
    const replacement = typeof value === "string" ? value : (value[lang] ?? term);
    out = out.replace(new RegExp(escapeRegExp(term), "gi"), () => replacement);
  }
  return out;
}

const zh = new ZhNormalizer(INDEXTTS_ZH_OPTIONS);

/** ½ ¼ ¾ ⅓ …: English reads them as fractions itself; the Chinese path gets "1/2". */
const VULGAR_FRACTION = /[\u00bc-\u00be\u2150-\u215e]/;

/**
 * The one deliberate deviation (the real vocabulary has no digit pieces, so a digit reaching SentencePiece is
 * `<unk>`): characters that SentencePiece's NFKC would turn into digits — full-width digits outside the Chinese
 * grammar, superscripts, circled and parenthesised numbers, vulgar fractions in Chinese text — are folded to their
 * NFKC form first, so the number grammars read them. Upstream leaves them to SentencePiece, where they become
 * `<unk>`; every other output is unchanged.
 */
export function foldDigitLikes(text: string, chinese: boolean): string {
  return text.replace(/[\u0080-\u{10ffff}]/gu, (c) => {
    if (VULGAR_FRACTION.test(c)) return chinese ? c.normalize("NFKC").replace("\u2044", "/") : c;
    const folded = c.normalize("NFKC");
    return folded !== c && /\d/.test(folded) ? folded : c;
  });
}

/**
 * Raw request text → IndexTTS2's normalised text (before `tokenize_by_CJK_char`).
 *
 * @example normalizeIndexTts("2.5平方电线") // "二点五平方电线"
 * @example normalizeIndexTts("晕XUAN4是一种GAN3觉") // "晕XVAN4是一种GAN3觉"
 */
export function normalizeIndexTts(raw: string, options: IndexTtsNormalizerOptions = {}): string {
  const annotations = protectAnnotations(raw);
  let text = annotations.text;
  let result: string;
  if (useChinese(text)) {
    text = foldDigitLikes(text, true);
    text = text.replace(CONTRACTION_RE, "$1 is");
    text = applyGlossary(text, options.glossary, "zh");
    const tech = saveTechTerms(pyRstrip(text));
    const pinyin = savePinyinTones(tech.text);
    const names = saveNames(pinyin.text);
    result = zh.normalize(names.text);
    result = restoreNames(result, names.saved);
    result = restorePinyinTones(result, pinyin.saved);
    result = restoreTechTerms(result, tech.saved);
    result = applyZhCharMap(result);
  } else {
    text = foldDigitLikes(text, false);
    text = text.replace(CONTRACTION_RE, "$1 is");
    text = applyGlossary(text, options.glossary, "en");
    const tech = saveTechTerms(text);
    result = restoreTechTerms(normalizeEnglish(tech.text), tech.saved);
    result = applyCharMap(result);
  }
  return restoreAnnotations(result, annotations.saved);
}
