/**
 * Whether a text has anything to say. Text made only of whitespace, control characters (C0/C1), format characters
 * (zero-width space/joiners, bidi marks, BOM, soft hyphen), unassigned/private-use/surrogate code points or lone
 * combining marks gives the node nothing to read: it would still run a request (and the ledger would bill its
 * silence), so every route that takes text, and each job item, refuses it up front (issue 14 #8).
 *
 * Punctuation, symbols and emoji count as speakable: the tokenizer and the model decide what they sound like.
 * The text-length rule lives beside the route helper and calls this too; keep this check independent of length.
 */
const UNSPEAKABLE = /^[\p{C}\p{Z}\p{M}\s]*$/u;

export function isSpeakable(text: string): boolean {
  return !UNSPEAKABLE.test(text);
}

/** The customer-facing message for text that is not speakable (with code EMPTY_TEXT, the same as an empty text). */
export const UNSPEAKABLE_MESSAGE =
  "text has nothing to speak: it is empty or only whitespace, control or zero-width characters";
