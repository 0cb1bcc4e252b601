import { type Glossary, prepareText } from "./normalize.ts";
import { type SegmentMode, splitSegments, type Token } from "./segment.ts";
import { type Encoded, loadSentencePiece, type SentencePieceModel } from "./sentencepiece.ts";

export interface TextFrontEndOptions {
  /** IndexTTS2's `max_text_tokens_per_segment`. Default 120. */
  readonly maxTokensPerSegment?: number;
  /** IndexTTS2's `quick_streaming_tokens` (a short first segment for streaming). Default 0: off. */
  readonly quickStreamingTokens?: number;
  /** The manifest's `limits.segmentation`: "official" (default) or "lossless" (see segment.ts). */
  readonly segmentMode?: SegmentMode;
  /** The model directory's `glossary.yaml` (see ./glossary.ts), applied by the normaliser as IndexTTS2 does. */
  readonly glossary?: Glossary;
}

/** One GPT segment: BPE ids (without the start/stop text tokens the GPT wraps them in) and their pieces. */
export interface TextSegment {
  readonly ids: number[];
  readonly pieces: string[];
}

/**
 * Stages 0–1 of IndexTTS2 (`TextTokenizer.encode` + `split_segments`): normalise, space out CJK characters,
 * SentencePiece-encode, cut into segments.
 *
 * @example
 * const frontEnd = new TextFrontEnd(await readFile("models/tiny/bpe.model"));
 * frontEnd.segments("欢迎使用IndexTTS2。支持情感调节！"); // [{ ids: [...], pieces: ["▁欢", ...] }]
 */
export class TextFrontEnd {
  /** The SentencePiece model (Unigram for the real IndexTTS2 `bpe.model`, BPE for the random-weight ones). */
  readonly bpe: SentencePieceModel;
  readonly maxTokensPerSegment: number;
  private readonly quickStreamingTokens: number;
  private readonly segmentMode: SegmentMode;
  private readonly glossary: Glossary | undefined;

  constructor(bpeModelBytes: Uint8Array, options: TextFrontEndOptions = {}) {
    const { maxTokensPerSegment = 120, quickStreamingTokens = 0, segmentMode = "official" } = options;
    if (!Number.isInteger(maxTokensPerSegment) || maxTokensPerSegment < 1) {
      throw new Error(`TextFrontEnd: maxTokensPerSegment must be a positive integer, got ${maxTokensPerSegment}`);
    }
    this.bpe = loadSentencePiece(bpeModelBytes);
    this.maxTokensPerSegment = maxTokensPerSegment;
    this.quickStreamingTokens = quickStreamingTokens;
    this.segmentMode = segmentMode;
    this.glossary = options.glossary;
  }

  get vocabSize(): number {
    return this.bpe.vocabSize;
  }

  /**
   * The whole text as ids and pieces, before segmentation. As in `TextTokenizer.encode`, text that is a single
   * character after trimming goes to SentencePiece as is, without normalisation or upper-casing.
   */
  tokenize(text: string): Encoded {
    if (text === "") return { ids: [], pieces: [] };
    return this.bpe.encodeWithPieces(this.sentencePieceInput(text));
  }

  /** Exactly the string `tokenize` hands to SentencePiece for `text` (what `npm run text` prints as "normalized"). */
  sentencePieceInput(text: string): string {
    if ([...text.trim()].length === 1) return text;
    return this.glossary === undefined ? prepareText(text) : prepareText(text, { glossary: this.glossary });
  }

  /** The text cut into GPT segments of at most `maxTokensPerSegment` tokens; empty text gives no segments. */
  segments(text: string): TextSegment[] {
    const { ids, pieces } = this.tokenize(text);
    const tokens: Token[] = ids.map((id, i) => ({ id, piece: pieces[i] as string }));
    return splitSegments(tokens, {
      maxTokensPerSegment: this.maxTokensPerSegment,
      quickStreamingTokens: this.quickStreamingTokens,
      mode: this.segmentMode,
    }).map((segment) => ({ ids: segment.map((t) => t.id), pieces: segment.map((t) => t.piece) }));
  }

  /** BPE tokens in the text: the sum over its segments, not counting each segment's start/stop text tokens. */
  countTokens(text: string): number {
    return this.tokenize(text).ids.length;
  }
}
