import { pcm16Bytes } from "../pcm.ts";
import { STREAMED_WAV_SIZE, wavHeader } from "../wav.ts";
import { concatBytes, EMPTY, type StreamEncoder } from "./types.ts";

/** WAV: the header first (sizes written in for a whole file, "unknown" for a stream), then the samples as they are. */
export function wavEncoder(options: { inputRate: number; streamed: boolean; totalSamples?: number }): StreamEncoder {
  const format = { sampleRate: options.inputRate, channels: 1, bitsPerSample: 16 };
  const size = options.streamed || options.totalSamples === undefined ? STREAMED_WAV_SIZE : options.totalSamples * 2;
  let header: Uint8Array | null = wavHeader(format, size);
  return {
    async push(pcm) {
      const out = header ? concatBytes([header, pcm16Bytes(pcm)]) : pcm16Bytes(pcm).slice();
      header = null;
      return out;
    },
    async end() {
      const out = header ?? EMPTY;
      header = null;
      return out;
    },
  };
}
