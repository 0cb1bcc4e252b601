/**
 * Splitting a SentencePiece token sequence into GPT segments, ported from IndexTTS's `TextTokenizer.split_segments` /
 * `split_segments_by_token` (`indextts/utils/front.py`, the IndexTTS2 version with `quick_streaming_tokens`).
 *
 * What it does: a segment ends at sentence punctuation. As soon as the tokens gathered since the last cut contain a
 * comma, they are split at commas (and, inside that, at "-"); a run with none of these is hard-cut every
 * `maxTokensPerSegment` tokens. Neighbouring pieces are then merged greedily while they fit. In effect a segment is
 * as many whole sentences or clauses as fit.
 *
 * The default, `mode: "official"`, is the Python algorithm exactly, quirks included (checked against the official
 * function's own output on committed fixtures, segment.official.test.ts):
 * - A quote token right after sentence punctuation is appended to the closing segment, and the `i += 1` inside
 *   Python's `for` loop does not skip it, so the quote is emitted twice (it also opens the next segment). The append
 *   does not check the limit, so such a segment may hold `maxTokensPerSegment + 1` tokens.
 * - A run of `max + 1` tokens with nothing to cut at is split into `max` and 1 (Python warns "The tokens length of
 *   segment exceeds limit"), and the single token may then be merged into the next piece.
 * Every segment therefore has at most `maxTokensPerSegment + 1` tokens (`maxSegmentTokens`).
 *
 * `mode: "lossless"` is the deliberate deviation, for deployments that prefer it: a quote is moved once (never
 * repeated) and only when there is room, and a hard cut keeps the overflowing token as the start of the next run, so
 * concatenating the segments gives the input back and no segment exceeds the limit.
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

/** `official`: IndexTTS2's algorithm, quirks included (the default). `lossless`: see the file comment. */
export type SegmentMode = "official" | "lossless";
export const SEGMENT_MODES: readonly SegmentMode[] = ["official", "lossless"];

export interface SegmentOptions {
  /** IndexTTS2's `max_text_tokens_per_segment`, 120 by default. */
  readonly maxTokensPerSegment: number;
  /**
   * `quick_streaming_tokens`: while fewer tokens than this have been seen, pieces are only merged up to half the
   * limit, so the first segment is short and its audio arrives sooner. 0 (the default) turns this off.
   */
  readonly quickStreamingTokens?: number;
  /** Default "official". */
  readonly mode?: SegmentMode;
}

/** The longest segment `splitSegments` can return: the official quote quirk may add one token past the limit. */
export function maxSegmentTokens(maxTokensPerSegment: number, mode: SegmentMode = "official"): number {
  return mode === "official" ? maxTokensPerSegment + 1 : maxTokensPerSegment;
}

/**
 * Splits tokens into segments of at most `maxSegmentTokens(max, mode)` tokens. In "lossless" mode concatenating them
 * gives the input back; in "official" mode a quote after sentence punctuation is repeated, as upstream does.
 */
export function splitSegments(tokens: readonly Token[], options: SegmentOptions): Token[][] {
  const max = options.maxTokensPerSegment;
  if (!Number.isInteger(max) || max < 1) throw new Error(`maxTokensPerSegment must be a positive integer, got ${max}`);
  const lossless = (options.mode ?? "official") === "lossless";
  return splitByToken(tokens, SENTENCE_END_SET, max, options.quickStreamingTokens ?? 0, lossless);
}

function splitByToken(
  tokens: readonly Token[],
  splitTokens: ReadonlySet<string>,
  max: number,
  quick: number,
  lossless: boolean,
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
      sub = splitByToken(current, COMMA_PIECES, max, quick, lossless);
    } else if (!splitsAtDash && hasDash) {
      sub = splitByToken(current, DASH_PIECES, max, quick, lossless);
    } else if (current.length <= max) {
      if (splitTokens.has(token.piece) && current.length > 2) {
        const following = tokens[i + 1];
        if (following !== undefined && QUOTE_PIECES.has(following.piece)) {
          if (!lossless) {
            current.push(following); // upstream: appended here, and visited again by the loop (its `i += 1` is a no-op)
          } else if (current.length < max) {
            current.push(following);
            i++;
          }
        }
        pieces.push(current);
        current = [];
        hasComma = false;
        hasDash = false;
      }
      continue;
    } else if (lossless) {
      // No punctuation to cut at: hard cut, and the token that did not fit starts the next run.
      pieces.push(current.slice(0, max));
      current = current.slice(max);
      if (splitTokens.has(token.piece)) {
        pieces.push(current);
        current = [];
      }
      continue;
    } else {
      // Upstream: the max + 1 tokens are cut into chunks of max (so max and 1) and the run starts afresh
      // (Python warns "The tokens length of segment exceeds limit" here).
      sub = [];
      for (let j = 0; j < current.length; j += max) sub.push(current.slice(j, j + max));
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
