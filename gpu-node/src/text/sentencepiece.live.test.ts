import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { libraryEncode, sentencepieceAvailable } from "../testing/spm-library.ts";
import { parityCorpus } from "./parity-corpus.ts";
import { loadSentencePiece } from "./sentencepiece.ts";

/**
 * Live parity with the real library: the parity corpus (zh, en, mixed, numbers, punctuation, emoji, full-width,
 * pinyin with tones, random soup; raw and prepared as IndexTTS prepares text) is encoded by Python's sentencepiece
 * (Debian's python3-sentencepiece, installed by .ci/run) and by our encoders, for every BPE and Unigram fixture
 * model and the tiny model's bpe.model. Complements the committed fixtures with text nobody chose.
 *
 * The real IndexTTS2 bpe.model is not committed (its licence binds every recipient, gpu-node/FIDELITY.md); set
 * INDEXTTS2_BPE_MODEL=/path/to/checkpoints/bpe.model to include it.
 */
const available = sentencepieceAvailable();
if (!available && process.env.CI)
  throw new Error("CI must install python3-sentencepiece for the tokenizer parity test");

const fixture = (m: string) => fileURLToPath(new URL(`./fixtures/${m}.model`, import.meta.url));
const models = [
  ...["bpe_nfkc", "bpe_bytes", "bpe_identity", "bpe_suffix_unused"].map(fixture),
  ...["unigram_pinyin", "unigram_bytes", "unigram_identity", "unigram_suffix"].map(fixture),
  fileURLToPath(new URL("../../models/tiny/bpe.model", import.meta.url)),
];
const real = process.env.INDEXTTS2_BPE_MODEL;
if (real !== undefined && real !== "") {
  if (!existsSync(real)) throw new Error(`INDEXTTS2_BPE_MODEL=${real} does not exist`);
  models.push(real);
}

describe.skipIf(!available)("SentencePiece live parity with Python sentencepiece", () => {
  it("encodes the parity corpus exactly like the library, for every model", () => {
    // Every third case keeps every kind and the run to a few seconds for ten models.
    const cases = parityCorpus(20261125, 600).filter((_, i) => i % 3 === 0);
    expect(new Set(cases.map((c) => c.kind)).size).toBeGreaterThanOrEqual(18);
    const texts = cases.map((c) => c.text);
    const reference = libraryEncode(models, texts);
    for (const path of models) {
      const ours = loadSentencePiece(new Uint8Array(readFileSync(path)));
      const expected = reference.ids[path] ?? [];
      const mismatches = cases.filter(
        (_, i) => JSON.stringify(ours.encode(texts[i] as string)) !== JSON.stringify(expected[i]),
      );
      expect(mismatches, path).toEqual([]);
    }
  });
});
