/**
 * SentencePiece Unigram (unigram_model.cc, Model::EncodeOptimized: the encoder `EncodeAsIds` uses): a Viterbi pass
 * over the UTF-8 bytes of the normalised text that keeps, for every byte position, the best path ending there.
 *
 * Details that decide ids, all as in the C++ library:
 * - every NORMAL, USER_DEFINED and UNUSED piece is in the trie; UNUSED pieces are skipped when matched;
 * - a user-defined piece scores `length_in_bytes * max_score - 0.1`, where max_score is the largest NORMAL score
 *   but never below FLT_MIN (so about -0.1 for the usual all-negative scores);
 * - a character no piece covers by itself becomes one unknown node scoring `min_score - 10`;
 * - a piece's candidate is a float64 sum (the C++ ternary's common type is double) of its float32 score and the
 *   float32 best score where it starts, compared with the float32 best score stored where it ends, then stored as
 *   float32; the unknown candidate is a float32 sum. Float rounding decides between equal-looking paths ("99"+"9"
 *   or "9"+"99"), so this is exact, not approximate;
 * - a candidate replaces the best path only when strictly better, so the first path found (earlier starts first,
 *   shorter pieces first) wins exact ties.
 * Runs of unknowns are merged, or turned into byte pieces, by the shared post-processing (spm-processor.ts).
 */
import { ModelType, PieceType } from "./spm-model-proto.ts";
import { oneCharLen } from "./spm-normalizer.ts";
import { type Segment, SentencePieceModel } from "./spm-processor.ts";
import { KeyTrie } from "./spm-trie.ts";

const FLT_MAX = 3.4028234663852886e38;
const FLT_MIN = 1.1754943508222875e-38;
/** unigram_model.cc: kUnkPenalty. */
const UNK_PENALTY = 10;

const utf8Encoder = new TextEncoder();
// ignoreBOM: a piece may begin with U+FEFF; by default TextDecoder silently drops it.
const utf8Decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * A loaded Unigram model: `SentencePieceProcessor` for model_type=UNIGRAM, the type IndexTTS2's `bpe.model` has.
 *
 * @example
 * const sp = new SentencePieceUnigram(bytes);
 * sp.encode("XVAN4 你 好"); // same ids as Python's sp.EncodeAsIds("XVAN4 你 好")
 */
export class SentencePieceUnigram extends SentencePieceModel {
  private readonly trie = new KeyTrie();
  private readonly scores: Float32Array;
  private readonly types: Uint8Array;
  private readonly maxScore: number;
  private readonly unkScore: number;

  constructor(modelBytes: Uint8Array) {
    super(modelBytes, ModelType.UNIGRAM, "Unigram");
    const all = this.model.pieces;
    this.scores = Float32Array.from(all, (p) => p.score);
    this.types = Uint8Array.from(all, (p) => p.type);
    let min = FLT_MAX;
    let max = FLT_MIN;
    for (const p of all) {
      if (p.type !== PieceType.NORMAL) continue;
      min = Math.min(min, p.score);
      max = Math.max(max, p.score);
    }
    this.maxScore = max;
    this.unkScore = Math.fround(min - UNK_PENALTY);
    for (const [piece, id] of this.pieces) this.trie.insert(utf8Encoder.encode(piece), id);
  }

  protected segment(normalized: string): Segment[] {
    const text = utf8Encoder.encode(normalized);
    const size = text.byteLength;
    if (size === 0) return [];
    // Float32Array: the best scores are stored as float32, as in the C++ BestPathNode.
    const bestScore = new Float32Array(size + 1);
    const startsAt = new Int32Array(size + 1).fill(-1);
    const bestId = new Int32Array(size + 1).fill(-1);
    const offer = (end: number, start: number, id: number, candidate: number): void => {
      if (startsAt[end] === -1 || candidate > (bestScore[end] as number)) {
        bestScore[end] = candidate;
        startsAt[end] = start;
        bestId[end] = id;
      }
    };

    for (let start = 0; start < size; ) {
      const tillHere = bestScore[start] as number;
      const charLen = Math.min(oneCharLen(text[start] as number), size - start);
      let hasSingleNode = false;
      let node = 0;
      for (let end = start; end < size; ) {
        node = this.trie.step(node, text[end] as number);
        end++;
        if (node < 0) break;
        const id = this.trie.valueAt(node);
        if (id < 0) continue;
        const type = this.types[id];
        if (type === PieceType.UNUSED) continue;
        const length = end - start;
        // C++: `score` is the ternary's common type, double, so the sum is a double compared with the stored float.
        const score = type === PieceType.USER_DEFINED ? Math.fround(length * this.maxScore) - 0.1 : this.scores[id];
        const candidate = (score as number) + tillHere;
        offer(end, start, id, candidate);
        if (length === charLen) hasSingleNode = true;
      }
      if (!hasSingleNode) offer(start + charLen, start, this.unkId, Math.fround(this.unkScore + tillHere));
      start += charLen;
    }

    const result: Segment[] = [];
    for (let end = size; end > 0; ) {
      const start = startsAt[end] as number;
      result.push([utf8Decoder.decode(text.subarray(start, end)), bestId[end] as number]);
      end = start;
    }
    return result.reverse();
  }
}
