/**
 * One long text (a chapter, an article) split into items for a job: whole sentences, merged greedily up to
 * `maxChars` characters (code points) per segment. A sentence longer than that is cut at clause punctuation, then
 * between words, and only as a last resort inside a word. Sentence and word boundaries come from `Intl.Segmenter`
 * (ICU: Chinese, Japanese and Latin punctuation alike), available on Node and Workers.
 *
 * Segments are trimmed; joined back together they give the text again up to whitespace at the cuts. Empty input
 * gives no segment.
 */

const CLAUSE_END = /[,，、;；:：)）\]」』—–-]$/u;
const length = (s: string) => [...s].length;

let sentences: Intl.Segmenter | undefined;
let words: Intl.Segmenter | undefined;

export function splitText(text: string, maxChars: number): string[] {
  if (!Number.isInteger(maxChars) || maxChars < 1) throw new RangeError("maxChars must be a positive integer");
  sentences ??= new Intl.Segmenter(undefined, { granularity: "sentence" });
  const pieces: string[] = [];
  for (const { segment } of sentences.segment(text)) {
    for (const part of segment.split(/\n\s*\n/)) pieces.push(...fitPiece(part, maxChars));
  }
  return merge(pieces, maxChars);
}

/** Pieces of at most `maxChars`: the text itself, or its clauses, words or characters. */
function fitPiece(text: string, maxChars: number): string[] {
  if (length(text.trim()) <= maxChars) return text.trim() ? [text] : [];
  words ??= new Intl.Segmenter(undefined, { granularity: "word" });
  const clauses: string[] = [];
  let current = "";
  for (const { segment } of words.segment(text)) {
    current += segment;
    if (CLAUSE_END.test(segment)) {
      clauses.push(current);
      current = "";
    }
  }
  if (current) clauses.push(current);
  const out: string[] = [];
  for (const clause of clauses) {
    if (length(clause.trim()) <= maxChars) out.push(clause);
    else out.push(...byWords(clause, maxChars));
  }
  return out;
}

function byWords(text: string, maxChars: number): string[] {
  const out: string[] = [];
  for (const { segment } of (words as Intl.Segmenter).segment(text)) {
    if (length(segment) <= maxChars) {
      out.push(segment);
      continue;
    }
    const chars = [...segment];
    for (let i = 0; i < chars.length; i += maxChars) out.push(chars.slice(i, i + maxChars).join(""));
  }
  return out;
}

/** Greedy merge of consecutive pieces while they fit, then trimmed. */
function merge(pieces: readonly string[], maxChars: number): string[] {
  const out: string[] = [];
  let current = "";
  for (const piece of pieces) {
    if (current && length((current + piece).trim()) > maxChars) {
      out.push(current.trim());
      current = "";
    }
    current += piece;
  }
  if (current.trim()) out.push(current.trim());
  return out.filter((s) => s.length > 0);
}
