/**
 * The protections IndexTTS2's `TextNormalizer` (indextts/utils/front.py) wraps around WeTextProcessing: spans that
 * the number grammar must not touch are swapped for placeholders before it runs and put back after.
 *
 * Upstream collects the spans in a Python `set`, whose order depends on the process's string hashing, and replaces
 * them one by one; when one span is a substring of another the result then depends on that order. Here spans are
 * replaced longest first (upstream's own order for technical terms), which is one of the orders Python can take and
 * the only one that never cuts a longer span.
 */

const PY_WS = "\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
/** Python's `str.rstrip()` (its whitespace, not JavaScript's). */
export const pyRstrip = (s: string): string => s.replace(new RegExp(`[${PY_WS}]+$`), "");

const byLengthDesc = (a: string, b: string): number => b.length - a.length;
const unique = (xs: Iterable<string>): string[] => [...new Set(xs)].sort(byLengthDesc);
/** Python's `chr(ord("a") + i)` */
const letter = (i: number): string => String.fromCharCode(97 + i);

/** `TECH_TERM_PATTERN`: GPT-5-nano, F5-TTS, CosyVoice-2 (a letter first, so 135-4567-8900 is not one). */
const TECH_TERM_RE = /[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)+/g;

/** `save_tech_terms`: the hyphens of technical terms become "<H>", so the Chinese grammar does not read "减". */
export function saveTechTerms(text: string): { text: string; saved: boolean } {
  const terms = unique(text.match(TECH_TERM_RE) ?? []);
  let out = text;
  for (const term of terms) out = out.replaceAll(term, term.replaceAll("-", "<H>"));
  return { text: out, saved: terms.length > 0 };
}

/** `restore_tech_terms`: every "<H>", with the spaces the normaliser put around it, back to "-". */
export function restoreTechTerms(text: string, saved: boolean): string {
  return saved ? text.replace(new RegExp(`[${PY_WS}]*<H>[${PY_WS}]*`, "g"), "-") : text;
}

/**
 * `PINYIN_TONE_PATTERN`: a pinyin syllable with its tone digit (xuan4, jve2, zhong4, shang5), not preceded by a letter
 * (so beta1, voice2 are not pinyin).
 */
export const PINYIN_TONE_SOURCE =
  "(?<![a-z])((?:[bpmfdtnlgkhjqxzcsryw]|[zcs]h)?(?:[aeiouüv]|[ae]i|u[aio]|ao|ou|i[aue]|[uüv]e|[uvü]ang?|uai|[aeiuv]n|[aeio]ng|ia[no]|i[ao]ng)|ng|er)([1-5])";
const PINYIN_RE = new RegExp(PINYIN_TONE_SOURCE, "gi");

/** `correct_pinyin`: j/q/x + u/ü is written v, and the syllable upper-cased (ju4 → JV4, XUAN4 → XVAN4). */
export function correctPinyin(pinyin: string): string {
  if (!"jqxJQX".includes(pinyin.charAt(0))) return pinyin;
  return pinyin
    .replace(/([jqx])[uü](n|e|an)*(\d)/gi, (_m, a: string, b: string | undefined, c: string) => `${a}v${b ?? ""}${c}`)
    .toUpperCase();
}

export function savePinyinTones(text: string): { text: string; saved: string[] } {
  const saved = unique(text.match(PINYIN_RE) ?? []);
  let out = text;
  saved.forEach((p, i) => {
    out = out.replaceAll(p, `<pinyin_${letter(i)}>`);
  });
  return { text: out, saved };
}

export function restorePinyinTones(text: string, saved: readonly string[]): string {
  let out = text;
  saved.forEach((p, i) => {
    out = out.replaceAll(`<pinyin_${letter(i)}>`, correctPinyin(p));
  });
  return out;
}

/** `NAME_PATTERN`: 克里斯托弗·诺兰, 约瑟夫·高登-莱维特 (so the "-" or "·" is not read). */
const NAME_RE = /[\u4e00-\u9fff]+(?:[-·—][\u4e00-\u9fff]+){1,2}/g;

export function saveNames(text: string): { text: string; saved: string[] } {
  const saved = unique(text.match(NAME_RE) ?? []);
  let out = text;
  saved.forEach((name, i) => {
    out = out.replaceAll(name, `<n_${letter(i)}>`);
  });
  return { text: out, saved };
}

export function restoreNames(text: string, saved: readonly string[]): string {
  let out = text;
  saved.forEach((name, i) => {
    out = out.replaceAll(`<n_${letter(i)}>`, name);
  });
  return out;
}

/** `G2P_PRONUNCIATION_ANNOTATION_PATTERN`: <字|读音> annotations pass through untouched. */
const ANNOTATION_RE = /<([^|>\n]+)\|([^>\n]+)>/g;

/** `_idx_to_alpha`: 0 → a, 25 → z, 26 → aa … */
function indexToAlpha(n: number): string {
  let s = "";
  let k = n;
  for (;;) {
    s = letter(k % 26) + s;
    k = Math.floor(k / 26) - 1;
    if (k < 0) return s;
  }
}

export function protectAnnotations(text: string): { text: string; saved: Array<[string, string]> } {
  const saved: Array<[string, string]> = [];
  const out = text.replace(ANNOTATION_RE, (m) => {
    const key = `PRONPLACEHOLDER${indexToAlpha(saved.length)}PRONPLACEHOLDER`;
    saved.push([key, m]);
    return key;
  });
  return { text: out, saved };
}

export function restoreAnnotations(text: string, saved: ReadonlyArray<readonly [string, string]>): string {
  let out = text;
  for (const [key, value] of saved) out = out.replaceAll(key, value);
  return out;
}
