import { createEncoder, encodeAll } from "../../../../audio/encode.ts";
import { AUDIO_FORMATS } from "../../../../audio/formats.ts";
import { verifyDuration } from "../../../../audio/verify.ts";
import type { AudioCodecs } from "../../synthesis/audio-port.ts";

/** Every response format, encoded in-process (audio/README.md lists the library behind each). */
export const nodeAudioCodecs: AudioCodecs = {
  formats: AUDIO_FORMATS,
  encode: (format, pcm, rate) => encodeAll(format, pcm, rate),
  stream: (format, rate) => createEncoder(format, { inputRate: rate, streamed: true }),
  verify: (format, bytes, expectedMs, rate) => verifyDuration(format, bytes, expectedMs, rate),
};
