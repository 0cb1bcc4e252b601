import { describe, expect, it } from "vitest";
import { measureWav, withExactSizes } from "./wav.ts";

/** a PCM WAV with `frames` frames, built by hand so the test does not trust any WAV library */
function wav(frames: number, { rate = 22050, channels = 1, bits = 16, extraChunk = false } = {}): Uint8Array {
  const dataBytes = frames * channels * (bits / 8);
  const extra = extraChunk ? 8 + 5 + 1 : 0;
  const buf = new Uint8Array(44 + extra + dataBytes);
  const v = new DataView(buf.buffer);
  const put = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) v.setUint8(at + i, s.charCodeAt(i));
  };
  put(0, "RIFF");
  v.setUint32(4, 36 + extra + dataBytes, true);
  put(8, "WAVE");
  put(12, "fmt ");
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, channels, true);
  v.setUint32(24, rate, true);
  v.setUint32(28, rate * channels * (bits / 8), true);
  v.setUint16(32, channels * (bits / 8), true);
  v.setUint16(34, bits, true);
  let at = 36;
  if (extraChunk) {
    put(at, "LIST");
    v.setUint32(at + 4, 5, true);
    at += 8 + 5 + 1; // odd size is padded to a word
  }
  put(at, "data");
  v.setUint32(at + 4, dataBytes, true);
  return buf;
}

describe("measureWav", () => {
  it("measures duration from the data length", () => {
    const r = measureWav(wav(22050 * 2));
    expect(r).toEqual({
      ok: true,
      wav: {
        sampleRate: 22050,
        channels: 1,
        bitsPerSample: 16,
        dataBytes: 88200,
        durationMs: 2000,
        dataOffset: 44,
        streamed: false,
      },
    });
  });

  it("skips other chunks, word-aligned", () => {
    const r = measureWav(wav(11025, { extraChunk: true }));
    expect(r.ok && r.wav.durationMs).toBe(500);
  });

  it("handles stereo and 24-bit", () => {
    const r = measureWav(wav(48000, { rate: 48000, channels: 2, bits: 24 }));
    expect(r.ok && r.wav.durationMs).toBe(1000);
  });

  it.each([
    ["empty", new Uint8Array(0)],
    ["JSON instead of audio", new TextEncoder().encode(`{"error":"boom"}`.padEnd(64, " "))],
    ["truncated data", wav(1000).subarray(0, 500)],
    [
      "not PCM",
      (() => {
        const b = wav(10);
        new DataView(b.buffer).setUint16(20, 3, true);
        return b;
      })(),
    ],
    [
      "half a frame",
      (() => {
        const b = wav(10);
        new DataView(b.buffer).setUint32(40, 19, true);
        return b;
      })(),
    ],
  ])("rejects %s", (_, bytes) => {
    expect(measureWav(bytes).ok).toBe(false);
  });

  it.each([
    ["0xFFFFFFFF", 0xffffffff],
    ["0", 0],
  ])("measures a streamed WAV (data size %s) from what follows the header, and writes the real sizes in", (_, mark) => {
    const b = wav(22050);
    const v = new DataView(b.buffer);
    v.setUint32(4, mark, true);
    v.setUint32(40, mark, true);
    const r = measureWav(b);
    if (!r.ok) throw new Error(r.reason);
    expect([r.wav.streamed, r.wav.dataBytes, r.wav.durationMs]).toEqual([true, 44100, 1000]);
    const fixed = withExactSizes(b, r.wav);
    expect(new DataView(fixed.buffer).getUint32(40, true)).toBe(44100);
    expect(new DataView(fixed.buffer).getUint32(4, true)).toBe(fixed.byteLength - 8);
    expect(measureWav(fixed)).toMatchObject({ ok: true, wav: { streamed: false, dataBytes: 44100 } });
    // a streamed body cut mid-frame is still refused
    expect(measureWav(b.subarray(0, 44 + 101)).ok).toBe(false);
  });

  it("a complete header is relayed untouched", () => {
    const b = wav(100);
    const r = measureWav(b);
    if (!r.ok) throw new Error(r.reason);
    expect(withExactSizes(b, r.wav)).toBe(b);
  });
});
