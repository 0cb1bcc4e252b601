import { describe, expect, it } from "vitest";
import { measureDuration } from "./duration.ts";
import { createEncoder, encodeAll } from "./encode.ts";
import { concatBytes } from "./encoders/types.ts";
import { AUDIO_FORMATS } from "./formats.ts";
import { MODEL_SAMPLE_RATE } from "./pcm.ts";
import { verifyDuration } from "./verify.ts";

/** a 440 Hz tone with a slow sweep: something a codec has to work at */
function tone(samples: number): Int16Array {
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++)
    out[i] = Math.round(8000 * Math.sin((2 * Math.PI * (440 + i / 200) * i) / MODEL_SAMPLE_RATE));
  return out;
}

const RATE = MODEL_SAMPLE_RATE;

describe("every format, whole and streamed, measures back to the PCM's duration", () => {
  const pcm = tone(Math.round(RATE * 1.7) + 37);
  const pcmMs = (pcm.length / RATE) * 1000;

  for (const format of AUDIO_FORMATS) {
    it(`${format}: a whole file`, async () => {
      const bytes = await encodeAll(format, pcm, RATE);
      expect(bytes.byteLength).toBeGreaterThan(100);
      const verdict = await verifyDuration(format, bytes, pcmMs, RATE);
      expect(verdict).toMatchObject({ ok: true });
    });

    it(`${format}: a stream of three segments, bytes out before the end`, async () => {
      const encoder = await createEncoder(format, { inputRate: RATE, streamed: true });
      const third = Math.floor(pcm.length / 3);
      const parts = [
        await encoder.push(pcm.subarray(0, third)),
        await encoder.push(pcm.subarray(third, 2 * third)),
        await encoder.push(pcm.subarray(2 * third)),
      ];
      const beforeEnd = parts.reduce((n, p) => n + p.byteLength, 0);
      parts.push(await encoder.end());
      // AAC's encoder answers from a worker thread: its first frames may arrive with a later push or the end.
      if (format !== "aac") expect(beforeEnd).toBeGreaterThan(0);
      const bytes = concatBytes(parts);
      const verdict = await verifyDuration(format, bytes, pcmMs, RATE);
      expect(verdict).toMatchObject({ ok: true });
    });
  }

  it("a streamed FLAC of silence (constant subframes) counts its frames exactly", async () => {
    const encoder = await createEncoder("flac", { inputRate: RATE, streamed: true });
    const parts = [
      await encoder.push(new Int16Array(33_075)),
      await encoder.push(new Int16Array(4410)),
      await encoder.end(),
    ];
    expect(await measureDuration("flac", concatBytes(parts), RATE)).toEqual({
      ok: true,
      durationMs: (37_485 / RATE) * 1000,
    });
  });

  it("a container that lies about its length is caught", async () => {
    const short = await encodeAll("flac", tone(RATE), RATE);
    expect(await verifyDuration("flac", short, 2000, RATE)).toMatchObject({ ok: false });
    expect(await measureDuration("mp3", new Uint8Array(500).fill(7), RATE)).toMatchObject({ ok: false });
  });
});
