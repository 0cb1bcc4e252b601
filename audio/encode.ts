/**
 * One entry for every response format: `createEncoder` for a stream (bytes out as segments arrive), `encodeAll` for
 * a whole answer. Input is always 16-bit mono PCM at the model's rate, the samples the meter counted.
 */
import { createFlacEncoder } from "./encoders/flac.ts";
import { createMediabunnyEncoder } from "./encoders/mediabunny.ts";
import { createMp3Encoder } from "./encoders/mp3.ts";
import { mp3WasmModule } from "./encoders/mp3-wasm.node.ts";
import { concatBytes, EMPTY, type StreamEncoder } from "./encoders/types.ts";
import { wavEncoder } from "./encoders/wav.ts";
import { type AudioFormat, encoderSampleRate } from "./formats.ts";
import { floatToPcm16, pcm16Bytes, pcm16ToFloat } from "./pcm.ts";
import { createResampler, resampleAll } from "./resample.ts";

export type { StreamEncoder } from "./encoders/types.ts";

export async function createEncoder(
  format: AudioFormat,
  options: { inputRate: number; streamed: boolean; totalSamples?: number },
): Promise<StreamEncoder> {
  const outputRate = encoderSampleRate(format, options.inputRate);
  switch (format) {
    case "mp3":
      return createMp3Encoder(options, await mp3WasmModule());
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

/**
 * OpenAI's `pcm`: raw s16le at 24 kHz, no header, exactly round(n × 24,000 / 22,050) samples: a whole answer is
 * resampled at once, a stream chunk by chunk with the converter's tail flushed at the end.
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
  let samplesIn = 0;
  let samplesOut = 0;
  return {
    async push(pcm) {
      samplesIn += pcm.length;
      const out = resampler.push(pcm16ToFloat(pcm));
      samplesOut += out.length;
      return pcm16Bytes(floatToPcm16(out));
    },
    async end() {
      // The converter holds its filter's delay: silence pushes it out, cut to the exact whole-signal length.
      let owed = Math.round((samplesIn * outputRate) / inputRate) - samplesOut;
      const tail: Float32Array[] = [];
      for (let tries = 0; owed > 0 && tries < 8; tries++) {
        const out = resampler.push(new Float32Array(256));
        tail.push(out.subarray(0, owed));
        owed -= Math.min(owed, out.length);
      }
      resampler.destroy();
      const joined = new Float32Array(tail.reduce((n, t) => n + t.length, 0));
      let at = 0;
      for (const t of tail) {
        joined.set(t, at);
        at += t.length;
      }
      return pcm16Bytes(floatToPcm16(joined));
    },
  };
}
