/**
 * One entry for every response format: `createEncoder` for a stream (bytes out as segments arrive), `encodeAll` for
 * a whole answer. Input is always 16-bit mono PCM at the model's rate, the samples the meter counted.
 */
import { createFlacEncoder } from "./encoders/flac.ts";
import { createMediabunnyEncoder } from "./encoders/mediabunny.ts";
import { createMp3Encoder } from "./encoders/mp3.ts";
import { concatBytes, EMPTY, type StreamEncoder } from "./encoders/types.ts";
import { type AudioFormat, encoderSampleRate } from "./formats.ts";
import { floatToPcm16, pcm16Bytes, pcm16ToFloat } from "./pcm.ts";
import { createResampler } from "./resample.ts";
import { STREAMED_WAV_SIZE, wavHeader } from "./wav.ts";

export type { StreamEncoder } from "./encoders/types.ts";

export async function createEncoder(
  format: AudioFormat,
  options: { inputRate: number; streamed: boolean; totalSamples?: number },
): Promise<StreamEncoder> {
  const outputRate = encoderSampleRate(format, options.inputRate);
  switch (format) {
    case "mp3":
      return createMp3Encoder(options);
    case "aac":
    case "opus":
      return createMediabunnyEncoder(format, { ...options, outputRate });
    case "flac":
      return createFlacEncoder(options);
    case "wav":
      return wavEncoder(options);
    case "pcm":
      return pcmEncoder(options.inputRate, outputRate);
  }
}

/** A whole file in `format`. */
export async function encodeAll(format: AudioFormat, pcm: Int16Array, inputRate: number): Promise<Uint8Array> {
  const encoder = await createEncoder(format, { inputRate, streamed: false, totalSamples: pcm.length });
  const head = await encoder.push(pcm);
  return concatBytes([head, await encoder.end()]);
}

/** WAV: the header first (sizes written in for a whole file, "unknown" for a stream), then the samples as they are. */
function wavEncoder(options: { inputRate: number; streamed: boolean; totalSamples?: number }): StreamEncoder {
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

/** OpenAI's `pcm`: raw s16le at 24 kHz, no header. */
async function pcmEncoder(inputRate: number, outputRate: number): Promise<StreamEncoder> {
  const resampler = await createResampler(inputRate, outputRate);
  return {
    async push(pcm) {
      return pcm16Bytes(floatToPcm16(resampler.push(pcm16ToFloat(pcm))));
    },
    async end() {
      resampler.destroy();
      return EMPTY;
    },
  };
}
