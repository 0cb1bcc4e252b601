import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { splitSegments, type Token } from "./segment.ts";

/**
 * The official `TextTokenizer.split_segments_by_token`, run by fixtures/segment/make-fixtures.py on ≥ 100 long token
 * lists (real texts through a SentencePiece model, and synthetic runs full of the pieces the algorithm looks at):
 * the default mode must give exactly the same segments, quirks included.
 */
interface Case {
  readonly source: string;
  readonly max: number;
  readonly quick: number;
  readonly pieces: string[];
  readonly segments: string[][];
}
const fixture = JSON.parse(
  readFileSync(new URL("./fixtures/segment/official-segments.json", import.meta.url), "utf8"),
) as { cases: Case[] };

describe("splitSegments matches the official split_segments", () => {
  it("has at least 100 long texts", () => {
    expect(fixture.cases.filter((c) => c.source === "corpus" && c.max === 120).length).toBeGreaterThanOrEqual(80);
    expect(fixture.cases.length).toBeGreaterThanOrEqual(100);
  });

  it("gives the official segments for every case", () => {
    const mismatches: number[] = [];
    fixture.cases.forEach((c, index) => {
      const tokens: Token[] = c.pieces.map((piece, id) => ({ piece, id }));
      const got = splitSegments(tokens, { maxTokensPerSegment: c.max, quickStreamingTokens: c.quick }).map((s) =>
        s.map((t) => t.piece),
      );
      if (JSON.stringify(got) !== JSON.stringify(c.segments)) mismatches.push(index);
    });
    console.log(
      `official split_segments: ${fixture.cases.length - mismatches.length}/${fixture.cases.length} identical`,
    );
    expect(mismatches).toEqual([]);
  });

  it("exercises the quirks: the lossless mode differs from upstream on some cases", () => {
    const repeated = fixture.cases.some((c) => c.segments.flat().length > c.pieces.length);
    expect(repeated).toBe(true);
    const differs = fixture.cases.filter((c) => {
      const tokens: Token[] = c.pieces.map((piece, id) => ({ piece, id }));
      const lossless = splitSegments(tokens, {
        maxTokensPerSegment: c.max,
        quickStreamingTokens: c.quick,
        mode: "lossless",
      });
      return JSON.stringify(lossless.map((s) => s.map((t) => t.piece))) !== JSON.stringify(c.segments);
    });
    expect(differs.length).toBeGreaterThan(0);
  });
});
