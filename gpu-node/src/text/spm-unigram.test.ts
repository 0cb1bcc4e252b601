import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadSentencePiece, PieceType, SentencePieceBpe, SentencePieceUnigram } from "./sentencepiece.ts";

const fixturesDir = fileURLToPath(new URL("./fixtures/", import.meta.url));
const load = (name: string) => new SentencePieceUnigram(readFileSync(`${fixturesDir}${name}.model`));

// Hand-made model files: a ModelProto with pieces (piece, score, type), a trainer spec and an identity normaliser.
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
function varint(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}
function lengthDelimited(fieldNumber: number, payload: Uint8Array | number[]): number[] {
  return [...varint((fieldNumber << 3) | 2), ...varint(payload.length), ...payload];
}
function piece(text: string, score: number, type: number = PieceType.NORMAL): number[] {
  const f = new Uint8Array(4);
  new DataView(f.buffer).setFloat32(0, score, true);
  return [...lengthDelimited(1, utf8(text)), (2 << 3) | 5, ...f, (3 << 3) | 0, type];
}
function model(pieces: number[][], modelType = 1): Uint8Array {
  const trainer = [(3 << 3) | 0, modelType];
  // NormalizerSpec: name "identity", add_dummy_prefix=false, remove_extra_whitespaces=false.
  const normalizer = [...lengthDelimited(1, utf8("identity")), (3 << 3) | 0, 0, (4 << 3) | 0, 0];
  return Uint8Array.from([
    ...pieces.flatMap((p) => lengthDelimited(1, p)),
    ...lengthDelimited(2, trainer),
    ...lengthDelimited(3, normalizer),
  ]);
}

describe("loadSentencePiece", () => {
  it("picks the encoder from the file's model_type", () => {
    expect(loadSentencePiece(readFileSync(`${fixturesDir}unigram_pinyin.model`))).toBeInstanceOf(SentencePieceUnigram);
    expect(loadSentencePiece(readFileSync(`${fixturesDir}bpe_nfkc.model`))).toBeInstanceOf(SentencePieceBpe);
  });

  it("refuses WORD and CHAR models with the type in the message", () => {
    const word = model([piece("<unk>", 0, PieceType.UNKNOWN)], 3);
    expect(() => loadSentencePiece(word)).toThrow(/model_type 3 is not supported/);
  });

  it("refuses a Unigram file given to the BPE class and the reverse", () => {
    expect(() => new SentencePieceBpe(readFileSync(`${fixturesDir}unigram_pinyin.model`))).toThrow(/not BPE/);
    expect(() => new SentencePieceUnigram(readFileSync(`${fixturesDir}bpe_nfkc.model`))).toThrow(/not Unigram/);
  });
});

describe("SentencePieceUnigram (hand-made models)", () => {
  const unk = piece("<unk>", 0, PieceType.UNKNOWN);

  it("takes the path with the best total score, not the longest piece", () => {
    const sp = new SentencePieceUnigram(model([unk, piece("a", -1), piece("b", -1), piece("ab", -2.5)]));
    expect(sp.encodeAsPieces("ab")).toEqual(["a", "b"]);
    const cheaper = new SentencePieceUnigram(model([unk, piece("a", -1), piece("b", -1), piece("ab", -1.5)]));
    expect(cheaper.encodeAsPieces("ab")).toEqual(["ab"]);
  });

  it("gives a user-defined piece its bonus (about -0.1) so it wins over normal pieces", () => {
    const sp = new SentencePieceUnigram(
      model([unk, piece("X", -0.5), piece("VAN", -0.5), piece("4", -0.5), piece("XVAN4", 0, PieceType.USER_DEFINED)]),
    );
    expect(sp.encodeAsPieces("XVAN4X")).toEqual(["XVAN4", "X"]);
  });

  it("never emits an UNUSED piece", () => {
    const sp = new SentencePieceUnigram(
      model([unk, piece("a", -3), piece("b", -3), piece("ab", -0.1, PieceType.UNUSED)]),
    );
    expect(sp.encodeAsPieces("ab")).toEqual(["a", "b"]);
  });

  it("merges a run of unknown characters into one unknown piece", () => {
    const sp = new SentencePieceUnigram(model([unk, piece("a", -1)]));
    expect(sp.encodeWithPieces("a龘𠀀a")).toEqual({ ids: [1, 0, 1], pieces: ["a", "龘𠀀", "a"] });
  });

  it("prefers a known character over the unknown penalty (min score - 10)", () => {
    const sp = new SentencePieceUnigram(model([unk, piece("a", -20), piece("b", -1)]));
    expect(sp.encodeAsPieces("ab")).toEqual(["a", "b"]);
  });
});

describe("SentencePieceUnigram (trained fixtures)", () => {
  it("keeps pinyin syllables with tones whole, as the real model's user-defined pieces", () => {
    const sp = load("unigram_pinyin");
    expect(sp.encodeAsPieces("我们去XVAN4这个地方")).toContain("XVAN4");
    expect(sp.encodeAsPieces("JV4 ZHUANG1ZHUANG1")).toEqual(["▁", "JV4", "▁", "ZHUANG1", "ZHUANG1"]);
  });

  it("falls back to bytes for unknown characters when the model says so", () => {
    const sp = load("unigram_bytes");
    const pieces = sp.encodeAsPieces("𪚥");
    expect(pieces.filter((p) => /^<0x[0-9A-F]{2}>$/.test(p))).toHaveLength(4);
    expect(sp.decode(sp.encode("hello 𪚥"))).toBe("hello 𪚥");
  });

  it("encodes a long mixed text (10,000 characters) in one pass", () => {
    const sp = load("unigram_pinyin");
    const text = "今天天气很好我们一起去公园散步吧 XVAN4 THE QUICK BROWN FOX ".repeat(250);
    const ids = sp.encode(text);
    expect(ids.length).toBeGreaterThan(text.length / 4);
  });
});
