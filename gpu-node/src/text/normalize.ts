/**
 * IndexTTS2's text clean-up before BPE (`indextts/utils/front.py: TextNormalizer`, `indextts/utils/common.py:
 * tokenize_by_CJK_char`), minus the WeTextProcessing FST pass. That pass spells out numbers, dates and units
 * ("2025年" → "二零二五年"); it has no TypeScript equivalent, so digits reach the BPE as digits. What is kept is what
 * decides token ids and segment boundaries: NFKC, the punctuation table, the `'s` contractions, whitespace collapsing,
 * spacing out CJK characters and upper-casing.
 */

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

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const CHAR_MAP = new Map(CHAR_REPLACEMENTS);
const CHAR_RE = new RegExp(CHAR_REPLACEMENTS.map(([from]) => escapeRegExp(from)).join("|"), "g");

/** `TextNormalizer.ENGLISH_CONTRACTION_PATTERN`: "what's" → "what is" (deliberately not every 's). */
const CONTRACTION_RE = /(what|where|who|which|how|t?here|it|s?he|that|this)'s/gi;

/** The CJK ranges of `tokenize_by_CJK_char` (from NLTK), one character per match. */
const CJK_RE = /([\u1100-\u11ff\u2e80-\ua4cf\ua840-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff65-\uffdc\u{20000}-\u{2ffff}])/u;

/**
 * Python's whitespace (`str.isspace`, `\s` in `re`), which differs from JavaScript's `\s`: it includes U+001C–U+001F
 * and U+0085, and not U+FEFF.
 */
const PY_WS = "\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const PY_WS_RUN_RE = new RegExp(`[${PY_WS}]+`, "g");
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
 * Raw request text → the string IndexTTS2 hands to SentencePiece.
 *
 * @example prepareText("欢迎使用IndexTTS2，支持情感调节！") // "欢 迎 使 用 INDEXTTS2 , 支 持 情 感 调 节 !"
 */
export function prepareText(raw: string): string {
  let text = raw.normalize("NFKC");
  text = text.replace(CONTRACTION_RE, "$1 is");
  text = text.replace(CHAR_RE, (m) => CHAR_MAP.get(m) ?? m);
  text = pyStrip(text.replace(PY_WS_RUN_RE, " "));
  return tokenizeByCjkChar(text);
}
