import { describe, expect, it } from "vitest";
import { maxSegmentTokens, SENTENCE_END_PIECES, splitSegments, type Token } from "./segment.ts";

/** Tokens with ids equal to their position, so lost or repeated tokens show up in the ids. */
const tokens = (pieces: readonly string[]): Token[] => pieces.map((piece, id) => ({ piece, id }));
const piecesOf = (segments: Token[][]): string[][] => segments.map((s) => s.map((t) => t.piece));
const words = (n: number, prefix = "w"): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe("splitSegments", () => {
  it("merges short sentences into one segment while they fit", () => {
    const input = tokens(["▁A", "B", ".", "▁C", "D", "!", "▁E", "F", "?"]);
    expect(piecesOf(splitSegments(input, { maxTokensPerSegment: 120 }))).toEqual([
      ["▁A", "B", ".", "▁C", "D", "!", "▁E", "F", "?"],
    ]);
  });

  it("cuts at sentence punctuation when the next sentence does not fit", () => {
    const input = tokens(["▁A", "B", ".", "▁C", "D", "▁.", "▁E", "F", "▁..."]);
    expect(piecesOf(splitSegments(input, { maxTokensPerSegment: 4 }))).toEqual([
      ["▁A", "B", "."],
      ["▁C", "D", "▁."],
      ["▁E", "F", "▁..."],
    ]);
  });

  it("splits a sentence that is too long at commas, then at dashes", () => {
    const input = tokens([...words(4), ",", ...words(3, "x"), "-", ...words(3, "y"), "."]);
    expect(splitSegments(input, { maxTokensPerSegment: 5 }).map((s) => s.length)).toEqual([5, 4, 4]);
    expect(piecesOf(splitSegments(input, { maxTokensPerSegment: 5 }))[0]).toEqual([...words(4), ","]);
  });

  it("may end a segment at a comma when the rest of the sentence does not fit (IndexTTS2 behaviour)", () => {
    // Sentence 1 is 4 tokens; sentence 2 has a comma after 2 tokens. Clauses are packed greedily.
    const input = tokens(["▁a", "b", "c", ".", "▁d", ",", "▁e", "f", "g", "."]);
    expect(piecesOf(splitSegments(input, { maxTokensPerSegment: 6 }))).toEqual([
      ["▁a", "b", "c", ".", "▁d", ","],
      ["▁e", "f", "g", "."],
    ]);
  });

  it("official: hard-cuts a 300-token run-on as upstream does (120, 1, 120, 59)", () => {
    const input = tokens(words(300));
    const segments = splitSegments(input, { maxTokensPerSegment: 120 });
    // Upstream cuts each 121-token run into 120 + 1; the merge then joins the 1 with the next piece when they fit.
    expect(segments.flat()).toEqual(input);
    expect(segments.map((s) => s.length)).toEqual([120, 1, 120, 59]);
  });

  it("lossless: hard-cuts a 300-token run-on sentence into 120 + 120 + 60", () => {
    const input = tokens(words(300));
    const segments = splitSegments(input, { maxTokensPerSegment: 120, mode: "lossless" });
    expect(segments.map((s) => s.length)).toEqual([120, 120, 60]);
    expect(segments.flat()).toEqual(input);
  });

  it("official: a closing quote is appended to the sentence it closes and opens the next one too", () => {
    const input = tokens(["▁A", "B", ".", "'", "▁C", "D", "."]);
    expect(piecesOf(splitSegments(input, { maxTokensPerSegment: 4 }))).toEqual([
      ["▁A", "B", ".", "'"],
      ["'", "▁C", "D", "."],
    ]);
    // …and even past the limit: max + 1 tokens.
    const full = tokens(["▁A", "B", "C", ".", "▁'", "D", "."]);
    expect(piecesOf(splitSegments(full, { maxTokensPerSegment: 4 }))).toEqual([
      ["▁A", "B", "C", ".", "▁'"],
      ["▁'", "D", "."],
    ]);
    expect(maxSegmentTokens(4)).toBe(5);
  });

  it("lossless: keeps a closing quote with the sentence it closes, once", () => {
    const input = tokens(["▁A", "B", ".", "'", "▁C", "D", "."]);
    expect(piecesOf(splitSegments(input, { maxTokensPerSegment: 4, mode: "lossless" }))).toEqual([
      ["▁A", "B", ".", "'"],
      ["▁C", "D", "."],
    ]);
  });

  it("lossless: leaves the quote for the next segment when the sentence already fills one", () => {
    const input = tokens(["▁A", "B", "C", ".", "▁'", "D", "."]);
    const segments = splitSegments(input, { maxTokensPerSegment: 4, mode: "lossless" });
    expect(piecesOf(segments)).toEqual([
      ["▁A", "B", "C", "."],
      ["▁'", "D", "."],
    ]);
  });

  it("keeps the first segments at half the limit while quickStreamingTokens have not been reached", () => {
    const sentence = (p: string): string[] => [...words(39, p), "."];
    const input = tokens([...sentence("a"), ...sentence("b"), ...sentence("c")]);
    expect(splitSegments(input, { maxTokensPerSegment: 120 }).map((s) => s.length)).toEqual([120]);
    expect(splitSegments(input, { maxTokensPerSegment: 120, quickStreamingTokens: 100 }).map((s) => s.length)).toEqual([
      40, 80,
    ]);
  });

  it("returns no segments for no tokens", () => {
    expect(splitSegments([], { maxTokensPerSegment: 120 })).toEqual([]);
  });

  it("rejects a non-positive limit", () => {
    expect(() => splitSegments(tokens(["a"]), { maxTokensPerSegment: 0 })).toThrow(/positive integer/);
  });

  it("lossless: never loses, repeats or reorders a token, and never exceeds the limit (random sequences)", () => {
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const vocabulary = [...SENTENCE_END_PIECES, ",", "▁,", "-", "'", "▁'", ...words(20)];
    for (let round = 0; round < 300; round++) {
      const max = 1 + Math.floor(random() * 30);
      const length = Math.floor(random() * 200);
      const input = tokens(
        Array.from({ length }, () => vocabulary[Math.floor(random() * vocabulary.length)] as string),
      );
      const segments = splitSegments(input, {
        maxTokensPerSegment: max,
        quickStreamingTokens: round % 3 === 0 ? 20 : 0,
        mode: "lossless",
      });
      expect(segments.flat()).toEqual(input);
      for (const s of segments) {
        expect(s.length).toBeGreaterThan(0);
        expect(s.length).toBeLessThanOrEqual(max);
      }
    }
  });

  it("official: never loses or reorders a token (a quote after sentence punctuation may repeat) and stays within maxSegmentTokens (random sequences)", () => {
    let seed = 777;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const vocabulary = [...SENTENCE_END_PIECES, ",", "▁,", "-", "'", "▁'", ...words(20)];
    for (let round = 0; round < 300; round++) {
      const max = 1 + Math.floor(random() * 30);
      const length = Math.floor(random() * 200);
      const input = tokens(
        Array.from({ length }, () => vocabulary[Math.floor(random() * vocabulary.length)] as string),
      );
      const segments = splitSegments(input, {
        maxTokensPerSegment: max,
        quickStreamingTokens: round % 3 === 0 ? 20 : 0,
      });
      const ids = segments.flat().map((t) => t.id);
      // Dropping an id equal to its predecessor (the repeated quote) gives the input back.
      expect(ids.filter((id, i) => i === 0 || id !== ids[i - 1])).toEqual(input.map((t) => t.id));
      for (const s of segments) {
        expect(s.length).toBeGreaterThan(0);
        expect(s.length).toBeLessThanOrEqual(maxSegmentTokens(max));
      }
    }
  });
});
