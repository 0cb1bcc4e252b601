/**
 * The tokenizer parity corpus: strings of every kind the node hands to SentencePiece (Chinese, English, mixed,
 * numbers, punctuation, emoji, full-width forms, pinyin with tones, random soup), each also in the form IndexTTS's
 * front end gives it (`tokenize_by_CJK_char`: CJK characters spaced out, upper-cased). Deterministic for a seed, so
 * the figures in gpu-node/FIDELITY.md can be reproduced. Node-only (reads the committed corpora).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { tokenizeByCjkChar } from "./normalize.ts";

export interface ParityCase {
  readonly kind: string;
  readonly text: string;
}

const CORPORA = ["./fixtures/corpus.txt", "../../tools/corpus/bpe-corpus.txt"].map((p) =>
  fileURLToPath(new URL(p, import.meta.url)),
);

/** IndexTTS's CJK character class, to tell Chinese lines from the rest. */
const CJK = /[\u1100-\u11ff\u2e80-\ua4cf\ua840-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff65-\uffdc\u{20000}-\u{2ffff}]/u;

/** mulberry32: a seeded stream, so the corpus is the same on every machine. */
function seeded(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % n) >>> 0;
  };
}

const INITIALS = ["", "B", "P", "M", "F", "D", "T", "N", "L", "G", "K", "H", "J", "Q", "X", "ZH", "CH", "SH", "R", "Z"];
const FINALS = ["A", "O", "E", "I", "U", "V", "AI", "EI", "AO", "OU", "AN", "EN", "ANG", "ENG", "ONG", "IA", "IE"];
const FINALS_2 = ["IAO", "IU", "IAN", "IN", "IANG", "ING", "IONG", "UA", "UO", "UAI", "UI", "UAN", "UN", "UANG"];
const FINALS_3 = ["VE", "VAN", "VN", "UE", "ER"];
const ALL_FINALS = [...FINALS, ...FINALS_2, ...FINALS_3];
const ZH =
  "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处府鑫淼焱垚犇龘靐齉爩";
const EN_WORDS =
  "the quick brown fox jumps over lazy dog speech synthesis model voice emotion happy sad angry index tts api gpu token billing stream audio hello world it's don't can't I'm we'll you're".split(
    " ",
  );
const PUNCT = [..."，。！？；：、“”‘’（）《》【】「」『』〈〉…—～·,.!?;:'\"()[]{}<>-_/\\|@#$%^&*+=~`"].concat([
  "……",
  "，，，",
  "...",
  "——",
  "!!!",
  "?!",
  "$",
  "￥",
  "€",
  "£",
  "%",
  "‰",
  "℃",
  "°",
]);
const EMOJI = [..."😀😂🥲😍🤔👍🙏🎵🎉🔥❤⭐🚀🌟✨💯🐱🐶🍎🇨🇳"].concat(["❤️", "👨‍👩‍👧‍👦", "👍🏽", "🏳️‍🌈", "1️⃣", "#️⃣"]);
const FULLWIDTH = [
  ..."ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ０１２３４５６７８９！＂＃＄％＆＇（）＊＋，－．／：；＜＝＞？＠［＼］＾＿｀｛｜｝～　｡｢｣､･ｦｧｱｲｳｶﾀﾅﾊﾏﾔﾗﾜﾝﾞﾟ①②③⑩⑴⒈ⅠⅡⅢⅣⅻ㎏㎞㏄™№℡㈱ﬁﬂ¼½¾²³",
];

/**
 * At least `minCount` cases (raw and prepared forms together), the same for the same seed.
 *
 * @example
 * parityCorpus(20261207, 1000).length >= 1000
 */
export function parityCorpus(seed = 20261207, minCount = 1000): ParityCase[] {
  const rnd = seeded(seed);
  const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)] as T;
  const raw: ParityCase[] = [];
  const lines = CORPORA.flatMap((p) => readFileSync(p, "utf8").split("\n")).filter((l) => l.trim() !== "");
  const hasCjk = (l: string) => CJK.test(l);
  const hasLatin = (l: string) => /[A-Za-z]/.test(l);
  for (const line of lines) {
    const kind = hasCjk(line) ? (hasLatin(line) ? "mixed" : "zh") : "en";
    raw.push({ kind, text: line });
  }

  const syllable = (): string => `${pick(INITIALS)}${pick(ALL_FINALS)}${1 + rnd(5)}`;
  const zhRun = (n: number): string => Array.from({ length: n }, () => pick([...ZH])).join("");
  const budget = Math.max(120, Math.ceil(minCount / 16));
  for (let i = 0; i < budget; i++) {
    // Pinyin with tones, shaped like the real model's user-defined pieces (XVAN4, JV4) and the text around them.
    const syl = Array.from({ length: 1 + rnd(4) }, syllable);
    const forms = [
      syl.join(" "),
      syl.join(""),
      syl.join(" ").toLowerCase(),
      `${zhRun(2 + rnd(4))}${syl.join(" ")}${zhRun(1 + rnd(3))}`,
      `${zhRun(1)} ${syl[0]} ${zhRun(1)}`,
      `${syllable().replace(/\d$/, `${5 + rnd(5)}`)}`,
      `LV4 LÜ4 lü3 NV3 ${syl[0]}${pick(PUNCT)}`,
    ];
    raw.push({ kind: "pinyin", text: pick(forms) });

    const n = rnd(1_000_000_000);
    const numbers = [
      String(n),
      `${n % 1000}.${rnd(10_000)}`,
      `${rnd(100)}%`,
      `${2000 + rnd(30)}年${1 + rnd(12)}月${1 + rnd(28)}日`,
      `${rnd(24)}:${String(rnd(60)).padStart(2, "0")}`,
      `$${rnd(10_000)}.${rnd(100)}`,
      `¥${n.toLocaleString("en-US")}`,
      `1${String(rnd(10 ** 9)).padStart(10, "3")}`,
      `${rnd(50)}-${rnd(50)}`,
      `-${rnd(40)}℃`,
      `${rnd(9)}/${1 + rnd(9)}`,
      `第${rnd(300)}章 ${rnd(99)}kg ${rnd(999)}km/h`,
      `v${rnd(9)}.${rnd(20)}.${rnd(50)} build ${n}`,
      `${zhRun(3)}${rnd(10_000)}${zhRun(2)}`,
    ];
    raw.push({ kind: "numbers", text: pick(numbers) });

    const p = Array.from({ length: 1 + rnd(6) }, () => pick(PUNCT)).join(rnd(3) === 0 ? " " : "");
    raw.push({ kind: "punctuation", text: rnd(2) === 0 ? p : `${zhRun(2 + rnd(5))}${p}${pick(EN_WORDS)}${p}` });

    const e = Array.from({ length: 1 + rnd(3) }, () => pick(EMOJI)).join("");
    raw.push({ kind: "emoji", text: pick([e, `${zhRun(3)}${e}`, `${pick(EN_WORDS)} ${e} ${pick(EN_WORDS)}`]) });

    const fw = Array.from({ length: 1 + rnd(8) }, () => pick(FULLWIDTH)).join("");
    raw.push({ kind: "fullwidth", text: pick([fw, `${zhRun(2)}${fw}${zhRun(2)}`, `${pick(EN_WORDS)}${fw}`]) });

    const words = Array.from({ length: 1 + rnd(8) }, () => pick(EN_WORDS));
    raw.push({ kind: "en", text: rnd(2) === 0 ? words.join(" ") : words.join(" ").toUpperCase() });
    raw.push({ kind: "mixed", text: `${zhRun(2 + rnd(6))}${words.slice(0, 3).join(" ")}${zhRun(1 + rnd(6))}。` });

    // Soup: any of the above, plus whitespace of every kind and a few unseen scripts.
    const soup = [..."  \t\u3000\u00a0\u200b\ufeff\u2581ΩЖאب한글かなカナ\u0301é"].concat(
      [...ZH.slice(0, 60)],
      EN_WORDS,
      PUNCT,
      EMOJI,
      FULLWIDTH,
      [syllable(), "0123456789"],
    );
    raw.push({ kind: "random", text: Array.from({ length: 1 + rnd(30) }, () => pick(soup)).join("") });
  }

  const cases: ParityCase[] = [];
  const seen = new Set<string>();
  const add = (kind: string, text: string): void => {
    if (seen.has(text)) return;
    seen.add(text);
    cases.push({ kind, text });
  };
  for (const c of raw) {
    add(c.kind, c.text);
    add(`${c.kind}/prepared`, tokenizeByCjkChar(c.text));
  }
  return cases;
}
