import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { prepareText, tokenizeByCjkChar } from "./normalize.ts";

const fixture = JSON.parse(readFileSync(new URL("./fixtures/prepare-text.json", import.meta.url), "utf8")) as {
  cases: { text: string; prepared: string }[];
};

describe("prepareText", () => {
  it("matches upstream's tables and regexes run in Python, for every fixture string", () => {
    const actual = fixture.cases.map((c) => ({ text: c.text, prepared: prepareText(c.text) }));
    expect(actual).toEqual(fixture.cases);
  });

  it("maps full-width and CJK punctuation to IndexTTS's ASCII set", () => {
    expect(prepareText("你好，世界。真的吗？是的！")).toBe("你 好 , 世 界 . 真 的 吗 ? 是 的 !");
    expect(prepareText("注意：第一；第二、第三")).toBe("注 意 , 第 一 , 第 二 , 第 三");
    expect(prepareText("他说“好”（真的）《书》")).toBe("他 说 ' 好 '' 真 的 '' 书 '");
    expect(prepareText("等等……然后...")).toBe("等 等 …… 然 后 …");
    expect(prepareText("a:b;c")).toBe("A,B,C");
  });

  it("collapses whitespace, including newlines and ideographic spaces", () => {
    expect(prepareText("  hello \n\t world\u3000again  ")).toBe("HELLO WORLD AGAIN");
  });

  it("upper-cases Latin text and spaces out CJK characters", () => {
    expect(prepareText("欢迎使用IndexTTS2语音合成服务,支持情感调节和多音色选择。")).toBe(
      "欢 迎 使 用 INDEXTTS2 语 音 合 成 服 务 , 支 持 情 感 调 节 和 多 音 色 选 择 .",
    );
  });

  it("expands the 's contractions IndexTTS expands, and only those", () => {
    expect(prepareText("What's this? It's Tom's.")).toBe("WHAT IS THIS? IT IS TOM'S.");
  });

  it("returns an empty string for blank text", () => {
    expect(prepareText(" \n\t\u3000 ")).toBe("");
  });
});

describe("tokenizeByCjkChar", () => {
  it("reproduces the docstring example of indextts/utils/common.py", () => {
    expect(tokenizeByCjkChar("你好世界是 hello world 的中文")).toBe("你 好 世 界 是 HELLO WORLD 的 中 文");
  });

  it("treats Hangul, kana and CJK extension B as CJK", () => {
    expect(tokenizeByCjkChar("한국어カナ𠀀x")).toBe("한 국 어 カ ナ 𠀀 X");
  });
});
