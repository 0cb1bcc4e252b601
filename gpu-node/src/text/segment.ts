/**
 * Splitting a BPE token sequence into GPT segments, ported from IndexTTS's `TextTokenizer.split_segments` /
 * `split_segments_by_token` (`indextts/utils/front.py`, the IndexTTS2 version with `quick_streaming_tokens`).
 *
 * What it does: a segment ends at sentence punctuation. As soon as the tokens gathered since the last cut contain a
 * comma, they are split at commas (and, inside that, at "-"); a run with none of these is hard-cut every
 * `maxTokensPerSegment` tokens. Neighbouring pieces are then merged greedily while they fit. In effect a segment is
 * as many whole sentences or clauses as fit.
 *
 * Three deliberate differences from the Python:
 * - A quote token right after sentence punctuation moves into the closing segment. Python appends it there but the
 *   `i += 1` inside its `for` loop does not skip it, so the quote is emitted twice; here it is emitted once.
 * - The quote is only moved when the segment has room for it, so no segment exceeds the limit.
 * - A hard cut keeps the token that overflowed as the start of the next run. Python cuts the overflowing
 *   `max + 1` tokens into `max` and 1 and starts afresh, so a 300-token run-on becomes 120 + 1 + 120 + 59 tokens
 *   there and 120 + 120 + 60 here.
 */

export interface Token {
  readonly piece: string;
  readonly id: number;
}

/** `TextTokenizer.punctuation_marks_tokens` ("▁!" is left out upstream: unknown in the official vocabulary). */
export const SENTENCE_END_PIECES: readonly string[] = [".", "!", "?", "▁.", "▁?", "▁..."];
const COMMA_PIECES: ReadonlySet<string> = new Set([",", "▁,"]);
const DASH_PIECES: ReadonlySet<string> = new Set(["-"]);
const QUOTE_PIECES: ReadonlySet<string> = new Set(["'", "▁'"]);
const SENTENCE_END_SET: ReadonlySet<string> = new Set(SENTENCE_END_PIECES);

export interface SegmentOptions {
  /** IndexTTS2's `max_text_tokens_per_segment`, 120 by default. */
  readonly maxTokensPerSegment: number;
  /**
   * `quick_streaming_tokens`: while fewer tokens than this have been seen, pieces are only merged up to half the
   * limit, so the first segment is short and its audio arrives sooner. 0 (the default) turns this off.
   */
  readonly quickStreamingTokens?: number;
}

/** Splits tokens into segments of at most `maxTokensPerSegment`; concatenating them gives the input back. */
export function splitSegments(tokens: readonly Token[], options: SegmentOptions): Token[][] {
  const max = options.maxTokensPerSegment;
  if (!Number.isInteger(max) || max < 1) throw new Error(`maxTokensPerSegment must be a positive integer, got ${max}`);
  return splitByToken(tokens, SENTENCE_END_SET, max, options.quickStreamingTokens ?? 0);
}

function splitByToken(
  tokens: readonly Token[],
  splitTokens: ReadonlySet<string>,
  max: number,
  quick: number,
): Token[][] {
  if (tokens.length === 0) return [];
  const splitsAtComma = splitTokens.has(",") || splitTokens.has("▁,");
  const splitsAtDash = splitTokens.has("-");
  const pieces: Token[][] = [];
  let current: Token[] = [];
  let hasComma = false;
  let hasDash = false;

  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    current.push(token);
    hasComma ||= COMMA_PIECES.has(token.piece);
    hasDash ||= DASH_PIECES.has(token.piece);

    let sub: Token[][];
    if (!splitsAtComma && hasComma) {
      sub = splitByToken(current, COMMA_PIECES, max, quick);
    } else if (!splitsAtDash && hasDash) {
      sub = splitByToken(current, DASH_PIECES, max, quick);
    } else if (current.length <= max) {
      if (splitTokens.has(token.piece) && current.length > 2) {
        const following = tokens[i + 1];
        if (following !== undefined && QUOTE_PIECES.has(following.piece) && current.length < max) {
          current.push(following);
          i++;
        }
        pieces.push(current);
        current = [];
        hasComma = false;
        hasDash = false;
      }
      continue;
    } else {
      // No punctuation to cut at: hard cut, and the token that did not fit starts the next run.
      // (Python warns "The tokens length of segment exceeds limit" here.)
      pieces.push(current.slice(0, max));
      current = current.slice(max);
      if (splitTokens.has(token.piece)) {
        pieces.push(current);
        current = [];
      }
      continue;
    }
    pieces.push(...sub);
    current = [];
    hasComma = false;
    hasDash = false;
  }
  if (current.length > 0) pieces.push(current);
  return mergeSegments(pieces, max, quick);
}

/** Greedily joins neighbours while they fit (the tail of `split_segments_by_token`). */
function mergeSegments(pieces: readonly Token[][], max: number, quick: number): Token[][] {
  const merged: Token[][] = [];
  let total = 0;
  for (const piece of pieces) {
    total += piece.length;
    if (piece.length === 0) continue;
    const last = merged[merged.length - 1];
    if (last === undefined) {
      merged.push(piece);
    } else if ((last.length + piece.length <= max && total > quick) || last.length + piece.length <= max / 2) {
      merged[merged.length - 1] = last.concat(piece);
    } else {
      merged.push(piece);
    }
  }
  return merged;
}
