/**
 * Reads SentencePiece's `.model` file, a serialized `sentencepiece.ModelProto` (sentencepiece_model.proto), with a
 * minimal protobuf wire-format reader. Only the fields that change encoding or decoding are kept.
 */

export const PieceType = {
  NORMAL: 1,
  UNKNOWN: 2,
  CONTROL: 3,
  USER_DEFINED: 4,
  UNUSED: 5,
  BYTE: 6,
} as const;
export type PieceType = (typeof PieceType)[keyof typeof PieceType];

/** `TrainerSpec.ModelType`; Unigram and BPE are encoded here (sentencepiece.ts: loadSentencePiece). */
export const ModelType = { UNIGRAM: 1, BPE: 2, WORD: 3, CHAR: 4 } as const;

export interface ModelPiece {
  readonly piece: string;
  readonly score: number;
  readonly type: PieceType;
}

export interface TrainerSpec {
  readonly modelType: number;
  readonly vocabSize: number;
  readonly byteFallback: boolean;
  readonly treatWhitespaceAsSuffix: boolean;
  readonly unkId: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  readonly unkPiece: string;
  readonly bosPiece: string;
  readonly eosPiece: string;
  readonly padPiece: string;
  readonly unkSurface: string;
}

export interface NormalizerSpec {
  readonly name: string;
  readonly precompiledCharsmap: Uint8Array;
  readonly addDummyPrefix: boolean;
  readonly removeExtraWhitespaces: boolean;
  readonly escapeWhitespaces: boolean;
}

export interface ModelProto {
  readonly pieces: readonly ModelPiece[];
  readonly trainerSpec: TrainerSpec;
  readonly normalizerSpec: NormalizerSpec;
  /** Applied to decoded text when it carries a charsmap (spm_train's `--denormalization_rule_tsv`). */
  readonly denormalizerSpec: NormalizerSpec | null;
}

/** Default `TrainerSpec.unk_surface`: what an unknown id decodes to. */
const DEFAULT_UNK_SURFACE = " \u2047 ";
// ignoreBOM: a piece may begin with U+FEFF; by default TextDecoder silently drops it.
const utf8Decoder = new TextDecoder("utf-8", { ignoreBOM: true });

class WireReader {
  private pos: number;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    start = 0,
    private readonly end = bytes.byteLength,
  ) {
    this.pos = start;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** The low 32 bits of a varint, as a signed int32 (negative int32 fields are written as 10-byte varints). */
  varint(): number {
    let result = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.pos >= this.end) throw new Error("sentencepiece: truncated varint in model file");
      const b = this.bytes[this.pos++] as number;
      if (shift < 32) result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result | 0;
    }
    throw new Error("sentencepiece: malformed varint in model file");
  }

  float32(): number {
    if (this.pos + 4 > this.end) throw new Error("sentencepiece: truncated float in model file");
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** A length-delimited field: returns [start, end) and moves past it. */
  span(): [number, number] {
    const len = this.varint() >>> 0;
    const start = this.pos;
    if (start + len > this.end) throw new Error("sentencepiece: truncated field in model file");
    this.pos += len;
    return [start, start + len];
  }

  string(): string {
    const [s, e] = this.span();
    return utf8Decoder.decode(this.bytes.subarray(s, e));
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.advance(8);
    else if (wireType === 2) this.span();
    else if (wireType === 5) this.advance(4);
    else throw new Error(`sentencepiece: unsupported protobuf wire type ${wireType}`);
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw new Error("sentencepiece: truncated field in model file");
    this.pos += n;
  }

  /** Calls `onField(fieldNumber, wireType)` for every field; the callback must consume the value or return false. */
  fields(onField: (field: number, wireType: number) => boolean): void {
    while (!this.done) {
      const key = this.varint() >>> 0;
      const field = key >>> 3;
      const wireType = key & 7;
      if (!onField(field, wireType)) this.skip(wireType);
    }
  }
}

function parsePiece(bytes: Uint8Array, [start, end]: [number, number]): ModelPiece {
  const r = new WireReader(bytes, start, end);
  let piece = "";
  let score = 0;
  let type: number = PieceType.NORMAL;
  r.fields((field, wt) => {
    if (field === 1 && wt === 2) piece = r.string();
    else if (field === 2 && wt === 5) score = r.float32();
    else if (field === 3 && wt === 0) type = r.varint();
    else return false;
    return true;
  });
  if (type < PieceType.NORMAL || type > PieceType.BYTE)
    throw new Error(`sentencepiece: piece "${piece}" has type ${type}`);
  return { piece, score, type: type as PieceType };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function parseTrainerSpec(bytes: Uint8Array, span: [number, number] | null): TrainerSpec {
  const spec: Mutable<TrainerSpec> = {
    modelType: ModelType.UNIGRAM,
    vocabSize: 8000,
    byteFallback: false,
    treatWhitespaceAsSuffix: false,
    unkId: 0,
    bosId: 1,
    eosId: 2,
    padId: -1,
    unkPiece: "<unk>",
    bosPiece: "<s>",
    eosPiece: "</s>",
    padPiece: "<pad>",
    unkSurface: DEFAULT_UNK_SURFACE,
  };
  if (span === null) return spec;
  const r = new WireReader(bytes, span[0], span[1]);
  r.fields((field, wt) => {
    if (wt === 0) {
      const v = r.varint();
      if (field === 3) spec.modelType = v;
      else if (field === 4) spec.vocabSize = v;
      else if (field === 35) spec.byteFallback = v !== 0;
      else if (field === 24) spec.treatWhitespaceAsSuffix = v !== 0;
      else if (field === 40) spec.unkId = v;
      else if (field === 41) spec.bosId = v;
      else if (field === 42) spec.eosId = v;
      else if (field === 43) spec.padId = v;
      return true;
    }
    if (wt === 2) {
      if (field === 45) spec.unkPiece = r.string();
      else if (field === 46) spec.bosPiece = r.string();
      else if (field === 47) spec.eosPiece = r.string();
      else if (field === 48) spec.padPiece = r.string();
      else if (field === 44) spec.unkSurface = r.string();
      else return false;
      return true;
    }
    return false;
  });
  // An empty piece name means "use the default" (model_interface.cc: RETURN_PIECE).
  if (spec.unkPiece === "") spec.unkPiece = "<unk>";
  if (spec.bosPiece === "") spec.bosPiece = "<s>";
  if (spec.eosPiece === "") spec.eosPiece = "</s>";
  if (spec.padPiece === "") spec.padPiece = "<pad>";
  return spec;
}

function parseNormalizerSpec(bytes: Uint8Array, span: [number, number] | null): NormalizerSpec {
  const spec: Mutable<NormalizerSpec> = {
    name: "",
    precompiledCharsmap: new Uint8Array(0),
    addDummyPrefix: true,
    removeExtraWhitespaces: true,
    escapeWhitespaces: true,
  };
  if (span === null) return spec;
  const r = new WireReader(bytes, span[0], span[1]);
  r.fields((field, wt) => {
    if (field === 1 && wt === 2) spec.name = r.string();
    else if (field === 2 && wt === 2) {
      const [s, e] = r.span();
      spec.precompiledCharsmap = bytes.subarray(s, e);
    } else if (field === 3 && wt === 0) spec.addDummyPrefix = r.varint() !== 0;
    else if (field === 4 && wt === 0) spec.removeExtraWhitespaces = r.varint() !== 0;
    else if (field === 5 && wt === 0) spec.escapeWhitespaces = r.varint() !== 0;
    else return false;
    return true;
  });
  return spec;
}

/** Parses a serialized `sentencepiece.ModelProto` (the `.model` file). */
export function parseModelProto(bytes: Uint8Array): ModelProto {
  const pieces: ModelPiece[] = [];
  let trainer: [number, number] | null = null;
  let normalizer: [number, number] | null = null;
  let denormalizer: [number, number] | null = null;
  const r = new WireReader(bytes);
  r.fields((field, wt) => {
    if (wt !== 2) return false;
    if (field === 1) pieces.push(parsePiece(bytes, r.span()));
    else if (field === 2) trainer = r.span();
    else if (field === 3) normalizer = r.span();
    else if (field === 5) denormalizer = r.span();
    else return false;
    return true;
  });
  return {
    pieces,
    trainerSpec: parseTrainerSpec(bytes, trainer),
    normalizerSpec: parseNormalizerSpec(bytes, normalizer),
    denormalizerSpec: denormalizer === null ? null : parseNormalizerSpec(bytes, denormalizer),
  };
}
