/**
 * IndexTTS2's text front end before SentencePiece (`TextTokenizer.encode`): `TextNormalizer.normalize` — its own
 * rules around WeTextProcessing's Chinese and English text normalisation, ported in ./tn — then
 * `tokenize_by_CJK_char` (indextts/utils/common.py). Unicode normalisation (NFKC) and whitespace collapsing are left to
 * the SentencePiece model's own normaliser, as upstream leaves them.
 */
import { type IndexTtsNormalizerOptions, normalizeIndexTts } from "./tn/indextts.ts";

export type { Glossary, GlossaryEntry, IndexTtsNormalizerOptions } from "./tn/indextts.ts";

/** The CJK ranges of `tokenize_by_CJK_char` (from NLTK), one character per match. */
const CJK_RE = /([\u1100-\u11ff\u2e80-\ua4cf\ua840-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff65-\uffdc\u{20000}-\u{2ffff}])/u;

/**
 * Python's whitespace (`str.isspace`, `\s` in `re`), which differs from JavaScript's `\s`: it includes U+001C–U+001F
 * and U+0085, and not U+FEFF.
 */
const PY_WS = "\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const PY_STRIP_RE = new RegExp(`^[${PY_WS}]+|[${PY_WS}]+$`, "g");
const pyStrip = (s: string): string => s.replace(PY_STRIP_RE, "");

/**
 * `tokenize_by_CJK_char`: every CJK character becomes its own space-separated word, everything else is upper-cased.
 * "你好世界是 hello world 的中文" → "你 好 世 界 是 HELLO WORLD 的 中 文".
 */
export function tokenizeByCjkChar(line: string): string {
  const words: string[] = [];
  for (const part of pyStrip(line).split(CJK_RE)) {
    const w = pyStrip(part);
    if (w !== "") words.push(w.toUpperCase());
  }
  return words.join(" ");
}

/**
 * `TextNormalizer.normalize`: numbers, dates, units… spelled out, upstream's character map applied.
 *
 * @example normalize("会议将于2025年3月15日下午2点30分举行。") // "会议将于二零二五年三月十五日下午两点三十分举行."
 */
export function normalize(raw: string, options: IndexTtsNormalizerOptions = {}): string {
  return normalizeIndexTts(raw, options);
}

/**
 * Raw request text → the string IndexTTS2 hands to SentencePiece.
 *
 * @example prepareText("欢迎使用IndexTTS2，支持情感调节！") // "欢 迎 使 用 INDEXTTS 二 , 支 持 情 感 调 节 !"
 */
export function prepareText(raw: string, options: IndexTtsNormalizerOptions = {}): string {
  return tokenizeByCjkChar(normalize(raw, options));
}
