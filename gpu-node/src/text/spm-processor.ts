/**
 * What every SentencePiece model type shares (sentencepiece_processor.cc + model_interface.cc): the piece tables,
 * the normaliser, the pass that turns a segmentation into ids (unknown runs merged, byte fallback) and decoding.
 * A subclass supplies only `segment`: BPE merges (spm-bpe.ts) or the Unigram Viterbi (spm-unigram.ts).
 */
import { type ModelProto, PieceType, parseModelProto } from "./spm-model-proto.ts";
import { PrefixMatcher, SPACE_SYMBOL, SpmNormalizer, validCharLen } from "./spm-normalizer.ts";

const utf8Encoder = new TextEncoder();
// ignoreBOM: keep a leading U+FEFF as text; by default TextDecoder silently drops it.
const utf8Decoder = new TextDecoder("utf-8", { ignoreBOM: true });

export interface Encoded {
  readonly ids: number[];
  readonly pieces: string[];
}

/** One piece of a segmentation: its surface in the normalised text and its id (the unk id when unknown). */
export type Segment = [piece: string, id: number];

export abstract class SentencePieceModel {
  readonly model: ModelProto;
  protected readonly normalizer: SpmNormalizer;
  private readonly denormalizer: SpmNormalizer | null;
  /** Longest match over the user-defined symbols, shared with the normaliser. */
  protected readonly matcher: PrefixMatcher;
  /** NORMAL, USER_DEFINED and UNUSED pieces: the ones segmentation may produce (model_interface.cc: pieces_). */
  protected readonly pieces = new Map<string, number>();
  /** UNKNOWN, CONTROL and BYTE pieces (reserved_id_map_), looked up first. */
  private readonly reserved = new Map<string, number>();
  private readonly unk: number;

  /** Parses the model and checks it like ModelInterface::InitializePieces; `expectedType` is the subclass's. */
  protected constructor(modelBytes: Uint8Array, expectedType: number, typeName: string) {
    this.model = parseModelProto(modelBytes);
    const { pieces, trainerSpec } = this.model;
    if (trainerSpec.modelType !== expectedType) {
      throw new Error(`sentencepiece: model_type ${trainerSpec.modelType} is not ${typeName} (${expectedType})`);
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

  /** The model's own segmentation of normalised text (Model::Encode), before ids are post-processed. */
  protected abstract segment(normalized: string): Segment[];

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

  protected typeOf(id: number): PieceType | undefined {
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
    const segmented = this.segment(this.normalizer.normalize(text));
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
