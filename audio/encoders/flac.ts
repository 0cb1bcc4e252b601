/**
 * FLAC with libFLAC (libflacjs: libFLAC 1.3 compiled to WASM). libFLAC writes the whole stream itself: "fLaC",
 * STREAMINFO, then frames as they are encoded. A whole file is told its length up front, so its STREAMINFO carries
 * the exact sample count; a stream's says 0 ("unknown"), as the format allows for streams.
 */
import { createRequire } from "node:module";
import type { Flac as FlacModule } from "libflacjs";
import type { Encoder as FlacEncoder } from "libflacjs/lib/encoder.js";
import { concatBytes, EMPTY, type EncoderOptions, type StreamEncoder } from "./types.ts";

const require = createRequire(import.meta.url);

let ready: Promise<{ Flac: FlacModule; Encoder: typeof FlacEncoder }> | null = null;

function loadFlac(): Promise<{ Flac: FlacModule; Encoder: typeof FlacEncoder }> {
  ready ??= new Promise((resolve, reject) => {
    const Flac = require("libflacjs/dist/libflac.min.js") as FlacModule;
    const { Encoder } = require("libflacjs/lib/encoder") as { Encoder: typeof FlacEncoder };
    if (Flac.isReady()) resolve({ Flac, Encoder });
    else {
      Flac.on("ready", () => resolve({ Flac, Encoder }));
      Flac.on("error", (e: unknown) => reject(e));
    }
  });
  return ready;
}

export async function createFlacEncoder(options: EncoderOptions & { totalSamples?: number }): Promise<StreamEncoder> {
  const { Flac, Encoder } = await loadFlac();
  const encoder = new Encoder(Flac, {
    sampleRate: options.inputRate,
    channels: 1,
    bitsPerSample: 16,
    compression: 5,
    verify: false,
    ...(!options.streamed && options.totalSamples !== undefined ? { totalSamples: options.totalSamples } : {}),
  });
  let taken = 0;
  const take = (): Uint8Array => {
    const parts = encoder.rawData.slice(taken);
    taken = encoder.rawData.length;
    return parts.length === 0 ? EMPTY : concatBytes(parts);
  };
  return {
    async push(pcm) {
      if (pcm.length > 0 && !encoder.encode(Int32Array.from(pcm), pcm.length, true)) {
        throw new Error(`libFLAC refused the samples (state ${encoder.getState()})`);
      }
      return options.streamed ? take() : EMPTY;
    },
    async end() {
      try {
        if (!encoder.encode()) throw new Error(`libFLAC could not finish (state ${encoder.getState()})`);
        return take();
      } finally {
        encoder.destroy();
      }
    },
  };
}
