/**
 * How long the audio in a container is, read from the container itself: the WAV header, PCM's length, and for the
 * compressed formats Mediabunny's demuxers (MP3 frames with the Xing count, Ogg granule positions less Opus
 * pre-skip, FLAC STREAMINFO or its frames, ADTS frames). The proxy compares this with the PCM it metered before
 * releasing a byte of it (see ./verify.ts).
 */
import { ALL_FORMATS, BufferSource, Input } from "mediabunny";
import { flacFrameSamples } from "./flac-frames.ts";
import { type AudioFormat, encoderSampleRate } from "./formats.ts";
import { measureWav } from "./wav.ts";

export type DurationResult = { ok: true; durationMs: number } | { ok: false; reason: string };

export async function measureDuration(
  format: AudioFormat,
  bytes: Uint8Array,
  modelRate: number,
): Promise<DurationResult> {
  if (format === "wav") {
    const m = measureWav(bytes);
    return m.ok ? { ok: true, durationMs: m.wav.durationMs } : m;
  }
  if (format === "pcm") {
    if (bytes.byteLength % 2 !== 0) return { ok: false, reason: "PCM with an odd number of bytes" };
    return { ok: true, durationMs: (bytes.byteLength / 2 / encoderSampleRate("pcm", modelRate)) * 1000 };
  }
  if (format === "flac") {
    const info = flacStreamInfo(bytes);
    if (!info) return { ok: false, reason: "no FLAC STREAMINFO" };
    // 0 is "unknown" (a stream's header): then the frames are counted.
    if (info.totalSamples > 0) return { ok: true, durationMs: (info.totalSamples / info.sampleRate) * 1000 };
    const samples = flacFrameSamples(bytes);
    if (samples === null) return { ok: false, reason: "no FLAC frames" };
    return { ok: true, durationMs: (samples / info.sampleRate) * 1000 };
  }
  const input = new Input({ source: new BufferSource(bytes), formats: ALL_FORMATS });
  try {
    const track = await input.getPrimaryAudioTrack();
    if (!track) return { ok: false, reason: `no audio track in the ${format}` };
    const seconds = await track.computeDuration();
    return { ok: true, durationMs: seconds * 1000 };
  } catch (e) {
    return { ok: false, reason: `unreadable ${format}: ${e instanceof Error ? e.message : String(e)}` };
  } finally {
    input.dispose();
  }
}

/**
 * FLAC's STREAMINFO (the first metadata block, RFC 9639 §8.2): sample rate (20 bits) and total samples (36 bits).
 * Read directly because it is exact and four lines; Mediabunny estimates from frames when it has to.
 */
function flacStreamInfo(bytes: Uint8Array): { sampleRate: number; totalSamples: number } | null {
  if (bytes.byteLength < 42 || String.fromCharCode(...bytes.subarray(0, 4)) !== "fLaC") return null;
  if (((bytes[4] ?? 0) & 0x7f) !== 0) return null; // the first block must be STREAMINFO
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = 8; // after "fLaC" and the block header
  const word = v.getUint32(at + 10); // sample rate (20) | channels-1 (3) | bits-1 (5) | total samples high (4)
  const sampleRate = word >>> 12;
  const totalSamples = (word & 0xf) * 2 ** 32 + v.getUint32(at + 14);
  return sampleRate > 0 ? { sampleRate, totalSamples } : null;
}
