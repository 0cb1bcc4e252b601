/**
 * Sample-rate conversion with libsamplerate (libsamplerate-js, built with Emscripten's wasm2js: plain JS, about
 * 3.5–5 ms per audio second here, half of what an Opus answer costs; its "sinc fastest" converter): 22,050 Hz → 24 kHz for OpenAI's
 * `pcm` and for Opus. One converter per stream: it carries its filter state across chunks, so a stream resampled
 * chunk by chunk sounds like the whole resampled at once.
 */
import libsamplerate from "@alexanderolsen/libsamplerate-js";

// A CommonJS (UMD) module: Node's ESM loader gives it as a default export only.
const { ConverterType, create } = libsamplerate;

export interface Resampler {
  /** the next chunk, converted (a few samples of filter delay stay inside until the end) */
  push(samples: Float32Array): Float32Array;
  destroy(): void;
}

export async function createResampler(fromRate: number, toRate: number): Promise<Resampler> {
  if (fromRate === toRate) return { push: (s) => s, destroy: () => {} };
  const src = await create(1, fromRate, toRate, { converterType: ConverterType.SRC_SINC_FASTEST });
  return {
    push: (s) => (s.length === 0 ? s : src.full(s)),
    destroy: () => src.destroy(),
  };
}

/** A whole signal at once: exactly round(n × to / from) samples. */
export async function resampleAll(samples: Float32Array, fromRate: number, toRate: number): Promise<Float32Array> {
  if (fromRate === toRate || samples.length === 0) return samples;
  const src = await create(1, fromRate, toRate, { converterType: ConverterType.SRC_SINC_FASTEST });
  try {
    return src.simple(samples);
  } finally {
    src.destroy();
  }
}
