import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { prepareText } from "./normalize.ts";
import { SENTENCE_END_PIECES } from "./segment.ts";
import { TextFrontEnd } from "./tokenizer.ts";

const fixtures = fileURLToPath(new URL("./fixtures/", import.meta.url));
const tinyModel = fileURLToPath(new URL("../../models/tiny/bpe.model", import.meta.url));
// bpe_bytes was trained on text shaped like IndexTTS's training text: CJK characters spaced out, upper case.
const modelBytes = readFileSync(`${fixtures}bpe_bytes.model`);

const WELCOME = "欢迎使用IndexTTS2语音合成服务,支持情感调节和多音色选择。";

describe("TextFrontEnd", () => {
  const frontEnd = new TextFrontEnd(modelBytes, { maxTokensPerSegment: 120 });

  it("encodes the prepared text with the BPE model", () => {
    expect(frontEnd.tokenize(WELCOME).ids).toEqual(frontEnd.bpe.encode(prepareText(WELCOME)));
    expect(frontEnd.tokenize(WELCOME).pieces).toContain("TTS");
  });

  it("splits long Chinese text at 。 and keeps every segment within 120 tokens", () => {
    const text = "今天天气很好我们一起去公园散步吧然后再去图书馆看书。".repeat(12);
    const segments = frontEnd.segments(text);
    expect(segments.length).toBeGreaterThan(1);
    for (const s of segments) {
      expect(s.ids.length).toBeLessThanOrEqual(120);
      expect(s.pieces.length).toBe(s.ids.length);
      expect(SENTENCE_END_PIECES).toContain(s.pieces[s.pieces.length - 1]);
    }
  });

  it("hard-cuts a 300-token run-on sentence", () => {
    const text = "我".repeat(300);
    expect(frontEnd.countTokens(text)).toBe(300);
    // official split_segments: each 121-token run is cut into 120 + 1, and the 1 merges with what follows
    expect(frontEnd.segments(text).map((s) => s.ids.length)).toEqual([120, 1, 120, 59]);
    const lossless = new TextFrontEnd(modelBytes, { maxTokensPerSegment: 120, segmentMode: "lossless" });
    expect(lossless.segments(text).map((s) => s.ids.length)).toEqual([120, 120, 60]);
  });

  it("loses nothing in lossless mode: the segments concatenate to the full encoding", () => {
    const frontEnd = new TextFrontEnd(modelBytes, { maxTokensPerSegment: 120, segmentMode: "lossless" });
    const text = [
      WELCOME,
      "《盗梦空间》是由美国华纳兄弟影片公司出品的电影，由克里斯托弗·诺兰执导并编剧，莱昂纳多·迪卡普里奥、玛丽昂·歌迪亚、",
      "约瑟夫·高登-莱维特、艾利奥特·佩吉、汤姆·哈迪等联袂主演，2010年7月16日在美国上映。",
      "Speech synthesis is the artificial production of human speech, and a text-to-speech system converts text.",
      "他说：“明天见！”然后就走了……",
    ]
      .join("")
      .repeat(4);
    const full = frontEnd.tokenize(text);
    const segments = frontEnd.segments(text);
    expect(segments.flatMap((s) => s.ids)).toEqual(full.ids);
    expect(segments.flatMap((s) => s.pieces)).toEqual(full.pieces);
    expect(segments.every((s) => s.ids.length <= 120)).toBe(true);
    expect(frontEnd.countTokens(text)).toBe(full.ids.length);
  });

  it("honours a smaller maxTokensPerSegment", () => {
    const small = new TextFrontEnd(modelBytes, { maxTokensPerSegment: 16 });
    const segments = small.segments(WELCOME.repeat(5));
    expect(segments.every((s) => s.ids.length <= 16)).toBe(true);
    expect(segments.flatMap((s) => s.ids)).toEqual(small.tokenize(WELCOME.repeat(5)).ids);
  });

  it("sends a single character to SentencePiece unnormalised, as TextTokenizer.encode does", () => {
    expect(frontEnd.tokenize("。").ids).toEqual(frontEnd.bpe.encode("。"));
    expect(frontEnd.tokenize(" a ").ids).toEqual(frontEnd.bpe.encode(" a "));
  });

  it("gives no segments for empty or blank text", () => {
    expect(frontEnd.segments("")).toEqual([]);
    expect(frontEnd.segments(" \n ")).toEqual([]);
    expect(frontEnd.countTokens("")).toBe(0);
  });

  it("rejects a non-positive segment limit", () => {
    expect(() => new TextFrontEnd(modelBytes, { maxTokensPerSegment: 0 })).toThrow(/positive integer/);
  });
});

describe.skipIf(!existsSync(tinyModel))("TextFrontEnd with gpu-node/models/tiny/bpe.model", () => {
  it("segments the welcome sentence within the limit", () => {
    const frontEnd = new TextFrontEnd(readFileSync(tinyModel));
    const segments = frontEnd.segments(WELCOME.repeat(10));
    expect(segments.length).toBeGreaterThan(0);
    expect(segments.every((s) => s.ids.length > 0 && s.ids.length <= 120)).toBe(true);
    expect(segments.flatMap((s) => s.ids).every((id) => id >= 0 && id < frontEnd.vocabSize)).toBe(true);
  });
});
