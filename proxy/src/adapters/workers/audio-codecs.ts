/**
 * The Worker's encoders: WAV (no codec) and MP3 (LAME 3.100 in WASM, wasm-media-encoders). workerd refuses to
 * compile WebAssembly at run time, but instantiates a module the bundle imports: wrangler (and the vitest pool)
 * turn a `.wasm` import into a compiled `WebAssembly.Module` at build time (its CompiledWasm module rule).
 * Opus, AAC and FLAC stay on the Node proxy: see audio/README.md, "Which runtime encodes what".
 */
// The package's export map points `./wasm/mp3.wasm` at a file it does not ship (`./wasm.mp3.wasm`): the file by path.

import { createMp3Encoder } from "../../../../audio/encoders/mp3.ts";
import { concatBytes } from "../../../../audio/encoders/types.ts";
import { wavEncoder } from "../../../../audio/encoders/wav.ts";
import { FORMAT_SPECS } from "../../../../audio/formats.ts";
import { mp3FramesDuration } from "../../../../audio/mp3-frames.ts";
import { wavFromPcm16 } from "../../../../audio/wav.ts";
import mp3Wasm from "../../../../node_modules/wasm-media-encoders/wasm/mp3.wasm";
import type { AudioCodecs } from "../../synthesis/audio-port.ts";

export const workerAudioCodecs: AudioCodecs = {
  formats: ["mp3", "wav"],
  async encode(format, pcm, rate) {
    if (format !== "mp3") return wavFromPcm16(pcm, rate);
    const encoder = await createMp3Encoder({ inputRate: rate, streamed: false }, mp3Wasm);
    const head = await encoder.push(pcm);
    return concatBytes([head, await encoder.end()]);
  },
  async stream(format, rate) {
    return format === "mp3"
      ? createMp3Encoder({ inputRate: rate, streamed: true }, mp3Wasm)
      : wavEncoder({ inputRate: rate, streamed: true });
  },
  async verify(format, bytes, expectedMs) {
    // WAV is written here from the PCM (its duration is the PCM's by construction). MP3's frames are counted by
    // audio/mp3-frames.ts: Mediabunny's demuxers (the Node proxy's check) import node:fs, which workerd refuses.
    if (format !== "mp3") return { ok: true, durationMs: expectedMs };
    const measured = mp3FramesDuration(bytes);
    if (!measured.ok) return measured;
    const { below, above } = FORMAT_SPECS.mp3.slackMs;
    const diff = measured.durationMs - expectedMs;
    return diff < -below || diff > above
      ? {
          ok: false,
          reason: `the mp3 holds ${measured.durationMs.toFixed(1)} ms of audio, the PCM ${expectedMs.toFixed(1)} ms`,
        }
      : { ok: true, durationMs: measured.durationMs };
  },
};
