/**
 * PCM as the whole product handles it: mono, signed 16-bit little-endian. IndexTTS2 makes floats in [-1, 1] at
 * 22,050 Hz; everything after the vocoder (metering, encoders, containers) works on these 16-bit samples, so the
 * sample count the meter reads is the one every encoder is given.
 */

/** IndexTTS2's vocoder rate. */
export const MODEL_SAMPLE_RATE = 22_050;
/** OpenAI's `pcm` response format: raw 24 kHz s16le, no header. */
export const OPENAI_PCM_SAMPLE_RATE = 24_000;

/** Float samples in [-1, 1] → 16-bit PCM (what IndexTTS2 writes: ×32767, rounded, clamped). */
export function floatToPcm16(samples: Float32Array): Int16Array {
  const pcm = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.round((samples[i] ?? 0) * 32767);
    pcm[i] = Math.min(32767, Math.max(-32768, v));
  }
  return pcm;
}

export function pcm16ToFloat(pcm: Int16Array): Float32Array {
  const out = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = (pcm[i] ?? 0) / 32768;
  return out;
}

/** Little-endian bytes (a WAV's data, a `pcm` body) → samples; copies when the bytes are not 2-aligned. */
export function pcm16FromBytes(bytes: Uint8Array): Int16Array {
  if (bytes.byteLength % 2 !== 0) throw new RangeError("16-bit PCM must have an even number of bytes");
  if (bytes.byteOffset % 2 === 0) return new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  return new Int16Array(bytes.slice().buffer);
}

export const pcm16Bytes = (pcm: Int16Array): Uint8Array => new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);

export const samplesToMs = (samples: number, sampleRate: number): number => (samples * 1000) / sampleRate;
