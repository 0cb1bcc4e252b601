/**
 * The gpu-node's streamed answer (`Accept: application/vnd.indextts.segments`): each segment's PCM as soon as it and
 * every segment before it are made, so the proxy can meter and release a segment while the next is still decoding.
 *
 * A body is a sequence of frames, each `kind (u8) | payload length (u32 LE) | payload`:
 * - `SEGMENT`: `index (u32 LE) | sample count (u32 LE) | 16-bit mono PCM (s16le)`, at the rate in `x-sample-rate`.
 *   The count is stated so a reader can refuse a frame whose samples do not match it (what it meters is what it got).
 *   The 200 ms of silence between segments is not in it: the proxy puts it before every segment but the first.
 * - `END`: JSON `{segments, samples, semantic_tokens, queue_wait_ms, compute_ms}`; a body without it was cut.
 * - `ERROR`: JSON `{code, message}`: the synthesis failed after the answer started (segments before it stand).
 * Written by the node's HTTP layer, read by the proxy (synthesis/forward-segments.ts); our own format because no
 * standard container carries "a PCM chunk and the count that bills it" without a muxer on the node's event loop.
 */

export const SEGMENTS_CONTENT_TYPE = "application/vnd.indextts.segments";

export const FRAME_KIND = { SEGMENT: 1, END: 2, ERROR: 3 } as const;

export interface SegmentEnd {
  segments: number;
  samples: number;
  semantic_tokens: number;
  queue_wait_ms: number;
  compute_ms: number;
}

export type SegmentFrame =
  | { kind: "segment"; index: number; pcm: Int16Array }
  | { kind: "end"; end: SegmentEnd }
  | { kind: "error"; code: string; message: string };

const HEAD = 5;

function frame(kind: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEAD + payload.byteLength);
  const view = new DataView(out.buffer);
  view.setUint8(0, kind);
  view.setUint32(1, payload.byteLength, true);
  out.set(payload, HEAD);
  return out;
}

export function segmentFrame(index: number, pcm: Int16Array): Uint8Array {
  const payload = new Uint8Array(8 + pcm.byteLength);
  const view = new DataView(payload.buffer);
  view.setUint32(0, index, true);
  view.setUint32(4, pcm.length, true);
  for (let i = 0; i < pcm.length; i++) view.setInt16(8 + 2 * i, pcm[i] ?? 0, true);
  return frame(FRAME_KIND.SEGMENT, payload);
}

export const endFrame = (end: SegmentEnd): Uint8Array =>
  frame(FRAME_KIND.END, new TextEncoder().encode(JSON.stringify(end)));

export const errorFrame = (code: string, message: string): Uint8Array =>
  frame(FRAME_KIND.ERROR, new TextEncoder().encode(JSON.stringify({ code, message })));

/**
 * An incremental reader: bytes in as they arrive, whole frames out. It throws on anything malformed (an unknown
 * kind, a frame larger than `maxFrameBytes`, a sample count that disagrees with the bytes, segments out of order).
 */
export class SegmentFrameReader {
  private buffer = new Uint8Array(0);
  private nextIndex = 0;
  private samples = 0;
  private ended = false;

  constructor(private readonly maxFrameBytes: number) {}

  push(chunk: Uint8Array): SegmentFrame[] {
    if (chunk.byteLength > 0) {
      const joined = new Uint8Array(this.buffer.byteLength + chunk.byteLength);
      joined.set(this.buffer);
      joined.set(chunk, this.buffer.byteLength);
      this.buffer = joined;
    }
    const frames: SegmentFrame[] = [];
    let at = 0;
    while (this.buffer.byteLength - at >= HEAD) {
      const view = new DataView(this.buffer.buffer, this.buffer.byteOffset + at);
      const kind = view.getUint8(0);
      const length = view.getUint32(1, true);
      if (length > this.maxFrameBytes) throw new Error(`a frame of ${length} bytes exceeds ${this.maxFrameBytes}`);
      if (this.buffer.byteLength - at - HEAD < length) break;
      const payload = this.buffer.subarray(at + HEAD, at + HEAD + length);
      at += HEAD + length;
      frames.push(this.parse(kind, payload));
    }
    this.buffer = this.buffer.slice(at);
    return frames;
  }

  /** the body ended: it must have ended on a frame boundary, after an END or ERROR frame */
  finish(): void {
    if (this.buffer.byteLength > 0) throw new Error(`the body ended inside a frame (${this.buffer.byteLength} bytes)`);
    if (!this.ended) throw new Error("the body ended without its END frame");
  }

  private parse(kind: number, payload: Uint8Array): SegmentFrame {
    if (this.ended) throw new Error("a frame after the END frame");
    if (kind === FRAME_KIND.SEGMENT) {
      if (payload.byteLength < 8) throw new Error("a segment frame without its header");
      const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
      const index = view.getUint32(0, true);
      const count = view.getUint32(4, true);
      if (payload.byteLength - 8 !== count * 2) {
        throw new Error(`segment ${index} states ${count} samples but carries ${(payload.byteLength - 8) / 2}`);
      }
      if (index !== this.nextIndex) throw new Error(`segment ${index} arrived where ${this.nextIndex} was due`);
      this.nextIndex++;
      this.samples += count;
      const pcm = new Int16Array(count);
      for (let i = 0; i < count; i++) pcm[i] = view.getInt16(8 + 2 * i, true);
      return { kind: "segment", index, pcm };
    }
    const json = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
    this.ended = true;
    if (kind === FRAME_KIND.END) {
      const end = json as unknown as SegmentEnd;
      if (end.segments !== this.nextIndex) {
        throw new Error(`the END frame counts ${end.segments} segments, ${this.nextIndex} arrived`);
      }
      if (end.samples !== this.samples) {
        throw new Error(`the END frame counts ${end.samples} samples, ${this.samples} arrived`);
      }
      return { kind: "end", end };
    }
    if (kind === FRAME_KIND.ERROR) {
      return { kind: "error", code: String(json.code ?? "INTERNAL"), message: String(json.message ?? "") };
    }
    throw new Error(`unknown frame kind ${kind}`);
  }
}
