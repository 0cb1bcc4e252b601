import { measureDuration } from "./duration.ts";
import { type AudioFormat, FORMAT_SPECS } from "./formats.ts";

/**
 * Does `bytes` hold `expectedMs` of audio, within what the codec's framing allows? The proxy refuses to bill (and
 * to release) an answer whose container disagrees with the PCM the meter counted.
 */
export async function verifyDuration(
  format: AudioFormat,
  bytes: Uint8Array,
  expectedMs: number,
  modelRate: number,
): Promise<{ ok: true; durationMs: number } | { ok: false; reason: string }> {
  const measured = await measureDuration(format, bytes, modelRate);
  if (!measured.ok) return measured;
  const { below, above } = FORMAT_SPECS[format].slackMs;
  const diff = measured.durationMs - expectedMs;
  if (diff < -below || diff > above) {
    return {
      ok: false,
      reason: `the ${format} holds ${measured.durationMs.toFixed(1)} ms of audio, the PCM ${expectedMs.toFixed(1)} ms`,
    };
  }
  return measured;
}
