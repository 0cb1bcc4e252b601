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
import { createResampler, resampleAll } from "./resample.ts";
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
      return pcmEncoder(options.inputRate, outputRate, options.streamed);
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

/**
 * OpenAI's `pcm`: raw s16le at 24 kHz, no header. A stream is resampled chunk by chunk (a few samples of filter delay
 * stay in the converter); a whole answer at once, exactly round(n × 24,000 / 22,050) samples.
 */
async function pcmEncoder(inputRate: number, outputRate: number, streamed: boolean): Promise<StreamEncoder> {
  if (!streamed) {
    const held: Int16Array[] = [];
    return {
      async push(pcm) {
        held.push(pcm);
        return EMPTY;
      },
      async end() {
        const all = new Int16Array(held.reduce((n, p) => n + p.length, 0));
        let at = 0;
        for (const p of held) {
          all.set(p, at);
          at += p.length;
        }
        return pcm16Bytes(floatToPcm16(await resampleAll(pcm16ToFloat(all), inputRate, outputRate)));
      },
    };
  }
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
