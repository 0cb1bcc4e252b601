/**
 * Long text: the proxy splits a text into pieces of whole sentences (jobs' splitter) small enough for any node
 * (a node caps its segments per request), sends them all at once (a node batches them together, so a long text
 * takes about as long as its longest piece) and joins the audio in order with IndexTTS2's 200 ms between segments.
 * So the customer's only limit is the length rule (../core/text/length.ts), whatever the number of segments.
 */
import { type PcmFormat, pcmData, type WavMeasure } from "../../../audio/wav.ts";
import { ProxyError } from "../core/errors.ts";
import { splitText } from "../jobs/segment.ts";
import type { SpeechRequest } from "../upstream/adapters.ts";
import { type ForwardDeps, type Forwarded, forwardSpeech } from "./forward.ts";

/** Code points per piece: a few of the node's segments (≤ 120 text tokens each), far inside its limits. */
export const PIECE_MAX_CHARS = 300;
/** IndexTTS2's `interval_silence` between segments. */
const SILENCE_MS = 200;

export interface Joined {
  /** the first piece's node (the usage row names one node) */
  nodeId: string;
  /** the first piece's answer headers (random-weight notice and the like) */
  headers: Record<string, string>;
  wav: WavMeasure;
  pcm: Uint8Array;
  pieces: number;
}

/** The texts the node is asked for, in order. */
export function pieceTexts(text: string, maxChars = PIECE_MAX_CHARS): string[] {
  const texts = splitText(text, maxChars);
  if (texts.length === 0) throw new ProxyError("EMPTY_TEXT", "text is empty");
  return texts;
}

/**
 * A stream's pieces: the same, except that the first is cut again to at most half the size (at a clause where it
 * has one, else between words), since the time to first audio is the first piece's synthesis time.
 */
export function streamPieceTexts(text: string, maxChars = PIECE_MAX_CHARS): string[] {
  const [first = "", ...rest] = pieceTexts(text, maxChars);
  return [...splitText(first, Math.max(20, Math.floor(maxChars / 2))), ...rest];
}

/** A piece's node request id: the request's own for a one-piece text, `<id>.<n>` otherwise (also its usage row). */
export const pieceRequestId = (requestId: string, index: number, count: number): string =>
  count === 1 ? requestId : `${requestId}.${index}`;

export async function forwardPieces(
  deps: ForwardDeps,
  req: SpeechRequest,
  pool: string,
  deadlineAt: number,
  signal?: AbortSignal,
  maxChars = PIECE_MAX_CHARS,
  /** one piece after another (a batch job's item holds one batch slot), instead of all at once */
  sequential = false,
): Promise<Joined> {
  const texts = pieceTexts(req.text, maxChars);
  // One abort for all: a failed piece stops its siblings instead of leaving them to finish unbilled. A signal per
  // piece (not one shared by all): each transport listens to its own, so a 4,096-character text's 14 pieces do not
  // pile 14 listeners on one signal (Node warns of a leak past 10).
  const aborts = texts.map(() => new AbortController());
  const abortAll = () => {
    for (const a of aborts) a.abort();
  };
  signal?.addEventListener("abort", abortAll, { once: true });
  let forwarded: Forwarded[];
  try {
    const one = (text: string, i: number) =>
      forwardSpeech(
        deps,
        { ...req, text, requestId: pieceRequestId(req.requestId, i, texts.length) },
        pool,
        deadlineAt,
        aborts[i]?.signal,
      ).catch((e: unknown) => {
        abortAll();
        throw e;
      });
    if (sequential) {
      forwarded = [];
      for (const [i, text] of texts.entries()) forwarded.push(await one(text, i));
    } else forwarded = await Promise.all(texts.map(one));
  } finally {
    signal?.removeEventListener("abort", abortAll);
  }
  return join(forwarded);
}

/**
 * One piece's PCM as it goes out in a stream: the 200 ms of silence that precedes every piece but the first, then
 * its samples; with its measure, from which its usage row is metered.
 */
export function piecePcm(f: Forwarded, index: number): { pcm: Uint8Array; wav: WavMeasure } {
  const w = f.wav;
  const data = pcmData(f.response.body);
  if (!data) throw new ProxyError("UPSTREAM_INVALID_RESPONSE", "a piece's WAV has no data");
  const frameBytes = w.channels * (w.bitsPerSample / 8);
  const silenceBytes = index === 0 ? 0 : Math.round((w.sampleRate * SILENCE_MS) / 1000) * frameBytes;
  const pcm = new Uint8Array(silenceBytes + data.byteLength);
  pcm.set(data, silenceBytes);
  return {
    pcm,
    wav: { ...w, dataBytes: pcm.byteLength, durationMs: (pcm.byteLength / frameBytes / w.sampleRate) * 1000 },
  };
}

/**
 * One unit of a stream (a node's segment, or a whole piece) as it goes out: the 200 ms of silence IndexTTS2 puts
 * between segments before every unit but the text's first, then its samples; with the measure its row is metered
 * from. So the units of a stream add up to the same audio as the whole answer.
 */
export function unitPcm(unit: { piece: number; segment: number; pcm: Int16Array; sampleRate: number }): {
  pcm: Int16Array;
  wav: WavMeasure;
} {
  const silence = unit.piece === 0 && unit.segment === 0 ? 0 : Math.round((unit.sampleRate * SILENCE_MS) / 1000);
  const pcm = new Int16Array(silence + unit.pcm.length);
  pcm.set(unit.pcm, silence);
  return {
    pcm,
    wav: {
      sampleRate: unit.sampleRate,
      channels: 1,
      bitsPerSample: 16,
      dataBytes: pcm.byteLength,
      durationMs: (pcm.length / unit.sampleRate) * 1000,
      dataOffset: 0,
      streamed: false,
    },
  };
}

function join(forwarded: Forwarded[]): Joined {
  const [first] = forwarded;
  if (!first) throw new ProxyError("INTERNAL", "no audio");
  const format: PcmFormat = first.wav;
  const parts: Uint8Array[] = [];
  const frameBytes = format.channels * (format.bitsPerSample / 8);
  const silence = new Uint8Array(Math.round((format.sampleRate * SILENCE_MS) / 1000) * frameBytes);
  for (const [i, f] of forwarded.entries()) {
    const w = f.wav;
    if (
      w.sampleRate !== format.sampleRate ||
      w.channels !== format.channels ||
      w.bitsPerSample !== format.bitsPerSample
    ) {
      throw new ProxyError(
        "UPSTREAM_INVALID_RESPONSE",
        `the nodes answered the pieces of one text in different formats`,
      );
    }
    const pcm = pcmData(f.response.body);
    if (!pcm) throw new ProxyError("UPSTREAM_INVALID_RESPONSE", "a piece's WAV has no data");
    if (i > 0) parts.push(silence);
    parts.push(pcm);
  }
  const dataBytes = parts.reduce((n, p) => n + p.byteLength, 0);
  const pcm = new Uint8Array(dataBytes);
  let at = 0;
  for (const p of parts) {
    pcm.set(p, at);
    at += p.byteLength;
  }
  return {
    nodeId: first.nodeId,
    headers: first.response.headers,
    pcm,
    pieces: forwarded.length,
    wav: {
      sampleRate: format.sampleRate,
      channels: format.channels,
      bitsPerSample: format.bitsPerSample,
      dataBytes,
      durationMs: (dataBytes / frameBytes / format.sampleRate) * 1000,
      dataOffset: 44,
      streamed: false,
    },
  };
}
