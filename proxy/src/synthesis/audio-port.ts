/**
 * The encoders a deployment offers, as the speech routes need them. Node wires every format (audio/encode.ts:
 * WASM and JS codecs, ../adapters/node/audio-codecs.ts); the Worker keeps to WAV, which needs no codec and no CPU
 * (a Worker request's CPU time is limited, and WASM codecs must be bundled and compiled ahead): see audio/README.md.
 */

import type { StreamEncoder } from "../../../audio/encoders/types.ts";
import { wavEncoder } from "../../../audio/encoders/wav.ts";
import type { AudioFormat } from "../../../audio/formats.ts";
import { wavFromPcm16 } from "../../../audio/wav.ts";

export interface AudioCodecs {
  /** the response formats this deployment can encode */
  readonly formats: readonly AudioFormat[];
  /** 16-bit mono PCM at `rate` → a whole file */
  encode(format: AudioFormat, pcm: Int16Array, rate: number): Promise<Uint8Array>;
  /** an encoder for a stream: bytes out as each piece's PCM is pushed */
  stream(format: AudioFormat, rate: number): Promise<StreamEncoder>;
  /** the container's own duration is `expectedMs`, within the codec's framing slack */
  verify(
    format: AudioFormat,
    bytes: Uint8Array,
    expectedMs: number,
    rate: number,
  ): Promise<{ ok: true; durationMs: number } | { ok: false; reason: string }>;
}

/** WAV only: what runs anywhere at no cost (our own header writer; the duration is the PCM's by construction). */
export const wavOnlyCodecs: AudioCodecs = {
  formats: ["wav"],
  async encode(_format, pcm, rate) {
    return wavFromPcm16(pcm, rate);
  },
  async stream(_format, rate) {
    return wavEncoder({ inputRate: rate, streamed: true });
  },
  async verify(_format, _bytes, expectedMs) {
    return { ok: true, durationMs: expectedMs };
  },
};
