import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Rng } from "../engine/rng.ts";
import { SentencePieceBpe } from "./sentencepiece.ts";

/**
 * Live parity with the real library: random strings are encoded by Python's sentencepiece (Debian's
 * python3-sentencepiece, installed by .ci/run) and by our encoder, for every fixture model and the tiny model's
 * bpe.model. Complements the committed fixtures with text nobody chose.
 */
const PYTHON = "/usr/bin/python3";
const available = spawnSync(PYTHON, ["-c", "import sentencepiece"], { stdio: "ignore" }).status === 0;
if (!available && process.env.CI)
  throw new Error("CI must install python3-sentencepiece for the tokenizer parity test");

const models = ["bpe_nfkc", "bpe_bytes", "bpe_identity", "bpe_suffix_unused"].map((m) =>
  fileURLToPath(new URL(`./fixtures/${m}.model`, import.meta.url)),
);
models.push(fileURLToPath(new URL("../../models/tiny/bpe.model", import.meta.url)));

const ALPHABET = [
  ..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
  ..."     \t,.!?;:'\"-()…，。！？；：“”「」、",
  ..."的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处府",
  ..."😀🎵ßéüñçø№™½①Ⅳ㎏ｶﾀｶﾅＡＢＣ１２３",
];

function randomTexts(seed: number, count: number): string[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => {
    const len = 1 + (rng.nextUint32() % 60);
    let s = "";
    for (let i = 0; i < len; i++) s += ALPHABET[rng.nextUint32() % ALPHABET.length];
    return s;
  });
}

const SCRIPT = `
import json, sys, sentencepiece as spm
req = json.load(sys.stdin)
out = {}
for path in req["models"]:
    sp = spm.SentencePieceProcessor(model_file=path)
    out[path] = [sp.encode(t, out_type=int) for t in req["texts"]]
json.dump(out, sys.stdout)
`;

describe.skipIf(!available)("SentencePieceBpe live parity with Python sentencepiece", () => {
  it("encodes 400 random zh/en/mixed/odd strings exactly like the library, for every model", () => {
    const texts = randomTexts(20261125, 400);
    const reference = JSON.parse(
      execFileSync(PYTHON, ["-c", SCRIPT], {
        input: JSON.stringify({ models, texts }),
        maxBuffer: 64 << 20,
      }).toString(),
    ) as Record<string, number[][]>;
    for (const path of models) {
      const ours = new SentencePieceBpe(new Uint8Array(readFileSync(path)));
      const expected = reference[path] ?? [];
      texts.forEach((text, i) => {
        expect(ours.encode(text), `${path}: ${JSON.stringify(text)}`).toEqual(expected[i]);
      });
    }
  });
});
