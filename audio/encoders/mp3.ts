/**
 * MP3 with LAME (@breezystack/lamejs: LAME ported to plain JavaScript). Synchronous and frame by frame, so a stream
 * gets its bytes as each segment is encoded, and it runs wherever JavaScript runs (the Worker included). No Xing
 * header: the file is the frames, append-only; readers count frames for its length.
 */
import { Mp3Encoder } from "@breezystack/lamejs";
import { concatBytes, type EncoderOptions, type StreamEncoder } from "./types.ts";

const KBPS = 64;

export function createMp3Encoder(options: EncoderOptions): StreamEncoder {
  const encoder = new Mp3Encoder(1, options.inputRate, KBPS);
  const bytes = (b: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }) =>
    new Uint8Array(b.buffer, b.byteOffset, b.byteLength).slice();
  const held: Uint8Array[] = [];
  return {
    async push(pcm) {
      const out = bytes(encoder.encodeBuffer(pcm));
      if (options.streamed) return out;
      held.push(out);
      return new Uint8Array(0);
    },
    async end() {
      held.push(bytes(encoder.flush()));
      return concatBytes(held);
    },
  };
}
