import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { normalize, prepareText, tokenizeByCjkChar } from "./normalize.ts";
import { PINYIN_TONE_SOURCE } from "./tn/protect.ts";

describe("tokenizeByCjkChar", () => {
  it("matches IndexTTS's tokenize_by_CJK_char run in Python over the corpus (fixtures/corpus-prepared.txt)", () => {
    const raw = readFileSync(new URL("./fixtures/corpus.txt", import.meta.url), "utf8").split("\n");
    const expected = readFileSync(new URL("./fixtures/corpus-prepared.txt", import.meta.url), "utf8").split("\n");
    expect(raw.length).toBeGreaterThan(100);
    raw.forEach((line, i) => {
      if (i < expected.length - 1) expect(tokenizeByCjkChar(line)).toBe(expected[i]);
    });
  });

  it("reproduces the docstring example of indextts/utils/common.py", () => {
    expect(tokenizeByCjkChar("你好世界是 hello world 的中文")).toBe("你 好 世 界 是 HELLO WORLD 的 中 文");
  });

  it("treats Hangul, kana and CJK extension B as CJK", () => {
    expect(tokenizeByCjkChar("한국어カナ𠀀x")).toBe("한 국 어 カ ナ 𠀀 X");
  });
});

describe("normalize (IndexTTS2's TextNormalizer)", () => {
  it("spells out numbers, dates, times, money and units in Chinese text", () => {
    expect(normalize("共465篇，约315万字")).toBe("共四百六十五篇,约三百一十五万字");
    expect(normalize("2002年的第一场雪，下在了2003年")).toBe("二零零二年的第一场雪,下在了二零零三年");
    expect(normalize("速度是10km/h")).toBe("速度是每小时十公里");
    expect(normalize("他这条裤子是2012年买的，花了200块钱")).toBe("他这条裤子是二零一二年买的,花了两百块钱");
    expect(normalize("苹果于2030/1/2发布，最低售价仅 ¥12999")).toBe(
      "苹果于二零三零年一月二日发布,最低售价仅 一万二千九百九十九元",
    );
    expect(normalize("8:00 AM 开会")).toBe("上午八点 开会");
    expect(normalize("同比增长6.3%")).toBe("同比增长百分之六点三");
  });

  it("spells out numbers in English text with WeTextProcessing's English grammar", () => {
    expect(normalize("This sales for 2.5% off, only $12.5.")).toBe(
      "This sales for two point five percent off, only twelve point five dollars.",
    );
    expect(normalize("See you at 8:00 AM")).toBe("See you at eight AM");
    expect(normalize("Couting down 3, 2, 1, go!")).toBe("Couting down three, two, one, go!");
    expect(normalize("have you ever been to beta2?")).toBe("have you ever been to beta two?");
  });

  it("keeps pinyin with tones, rewriting u after j/q/x as v (XUAN4 → XVAN4, ju4 → JV4)", () => {
    expect(normalize("晕XUAN4是一种GAN3觉")).toBe("晕XVAN4是一种GAN3觉");
    expect(normalize("他ju4绝了")).toBe("他JV4绝了");
    expect(normalize("最zhong4要的是：不要chong2蹈覆辙")).toBe("最zhong4要的是,不要chong2蹈覆辙");
    // not pinyin: a letter before the syllable
    expect(normalize("用beta1测试")).toBe("用beta一测试");
  });

  it("protects technical terms and names from the number grammar", () => {
    expect(normalize("GPT-5-Nano 是 GPT-5 模型家族中最小的变体")).toBe("GPT-五-Nano 是 GPT-五 模型家族中最小的变体");
    expect(normalize("GPT-5-Nano is the smallest variant in the GPT-5 family.")).toBe(
      "GPT-five-Nano is the smallest variant in the GPT-five family.",
    );
    expect(normalize("由克里斯托弗·诺兰执导")).toBe("由克里斯托弗-诺兰执导");
    expect(normalize("约瑟夫·高登-莱维特主演")).toBe("约瑟夫-高登-莱维特主演");
    // a phone number is not a technical term: its dashes are read as a number
    expect(normalize("电话：135-4567-8900")).toBe("电话,一三五四五六七八九零零");
  });

  it("applies upstream's character map, including its ordering quirks", () => {
    expect(normalize("这酒...里...有毒...")).toBe("这酒…里…有毒…");
    expect(normalize("只有,,,才是最好的")).toBe("只有…才是最好的");
    // Chinese text: WeTextProcessing has already made "，，，" half-width, so it becomes "…"; English text: the
    // single "，" key comes before "，，，" in the alternation, so it becomes ",,,"
    expect(normalize("等等，，，然后")).toBe("等等…然后");
    expect(normalize("wait，，，then")).toBe("wait,,,then");
    expect(normalize("“我爱你”的英语是“I love you”")).toBe("'我爱你'的英语是'I love you'");
    expect(normalize("【注】（括号）《书》")).toBe("'注''括号''书'");
    // "$" becomes "." only on the Chinese path
    expect(normalize("价格$")).toBe("价格.");
  });

  it("expands the 's contractions IndexTTS expands, and only those", () => {
    expect(normalize("What's this? It's Tom's.")).toBe("What is this? It is Tom's.");
    expect(normalize("今天是个好日子 it's a good day")).toBe("今天是个好日子 it is a good day");
  });

  it("passes <字|读音> annotations through untouched", () => {
    expect(normalize("他姓<单|SHAN4>，今年30岁")).toBe("他姓<单|SHAN4>,今年三十岁");
  });

  it("keeps erhua and interjections, as IndexTTS2 builds its normaliser", () => {
    expect(normalize("这儿有只鸟儿啊")).toBe("这儿有只鸟儿啊");
  });

  it("applies a glossary first, longest term first, case-insensitively", () => {
    const glossary = { "PCIe 5.0": { zh: "PCIE 五点零", en: "PCIE five" }, PCIe: "PCIE", "C++": { zh: "C 加加" } };
    expect(normalize("支持pcie 5.0和C++", { glossary })).toBe("支持PCIE 五点零和C 加加");
    expect(normalize("PCIe 5.0 and PCIe", { glossary })).toBe("PCIE five and PCIE");
  });
});

describe("prepareText", () => {
  it("normalises, then spaces out CJK characters and upper-cases the rest", () => {
    expect(prepareText("欢迎使用IndexTTS2，支持情感调节！")).toBe("欢 迎 使 用 INDEXTTS 二 , 支 持 情 感 调 节 !");
    expect(prepareText("I love you!")).toBe("I LOVE YOU!");
  });

  it("returns an empty string for blank text", () => {
    expect(prepareText(" \n\t\u3000 ")).toBe("");
  });
});

/** Digits SentencePiece would see (its NFKC turns ２, ², ① into digits), outside pinyin tones and annotations. */
function strayDigits(prepared: string): string[] {
  const withoutPinyin = prepared.replace(new RegExp(PINYIN_TONE_SOURCE, "gi"), "").replace(/<[^|>\n]+\|[^>\n]+>/g, "");
  return withoutPinyin.normalize("NFKC").match(/\d/g) ?? [];
}

describe("no digit reaches the tokenizer", () => {
  let seed = 20261207;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const PIECES = [
    ..."0123456789０１２３４５６７８９",
    ..."²³½①⑴",
    ..."。，、：；！？.,:;!?-/+%$¥￥€£~～*=<>()（）[]【】“”\"'@#&_ ",
    ..."年月日号点分秒元块个万亿千百度米克是的了我在",
    "kg",
    "km/h",
    "am",
    "p.m.",
    "th",
    "st",
    "GPT-",
    "abc",
    "Mr.",
    "Jan",
    "x",
    "\n",
  ];

  it("holds for 2,000 random strings of digits, symbols, Chinese and Latin text", () => {
    const failures: string[] = [];
    for (let n = 0; n < 2000; n++) {
      const length = 1 + Math.floor(random() * 24);
      let text = "";
      for (let k = 0; k < length; k++) text += pick(PIECES);
      const stray = strayDigits(prepareText(text));
      if (stray.length > 0) failures.push(`${JSON.stringify(text)} → ${JSON.stringify(prepareText(text))}`);
    }
    expect(failures.slice(0, 20)).toEqual([]);
  });

  it("holds for 1,000 random strings of Latin text, digits and symbols (the English path)", () => {
    const latin = PIECES.filter((p) => !/[\u4e00-\u9fff]/.test(p)).concat([
      "USD",
      "Mon",
      "II",
      "e",
      "E",
      "st.",
      "a",
      "I",
    ]);
    const failures: string[] = [];
    for (let n = 0; n < 1000; n++) {
      const length = 1 + Math.floor(random() * 24);
      let text = "";
      for (let k = 0; k < length; k++) text += pick(latin);
      if (strayDigits(prepareText(text)).length > 0)
        failures.push(`${JSON.stringify(text)} → ${JSON.stringify(prepareText(text))}`);
    }
    expect(failures.slice(0, 20)).toEqual([]);
  });

  it("holds for long numbers, phone numbers, versions, dates and amounts in both languages", () => {
    const texts = [
      "1234567890123456789012345",
      "call +1 (555) 123-4567 ext 89 or 0049 30 1234567",
      "version 1.2.3.4.5 build 20240101",
      "2024-13-45 and 99/99/9999 and 25:61:61",
      "$1,234,567.891 and €0.001 and ¥1e10",
      "总价1,234,567.89元，编号A1B2C3，版本v2.0.1",
      "第3季度增长12.5%~15%，约1/3的用户",
      "room 101b, floor 7F, 3x4, 2^10, 10^-3",
    ];
    for (const t of texts) expect(strayDigits(prepareText(t)), `${t} → ${prepareText(t)}`).toEqual([]);
  });
});
