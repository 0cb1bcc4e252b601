/**
 * How long the audio in a container is, read from the container itself: the WAV header, PCM's length, and for the
 * compressed formats Mediabunny's demuxers (MP3 frames with the Xing count, Ogg granule positions less Opus
 * pre-skip, FLAC STREAMINFO or its frames, ADTS frames). The proxy compares this with the PCM it metered before
 * releasing a byte of it (see ./verify.ts).
 */
import { ALL_FORMATS, BufferSource, Input } from "mediabunny";
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
