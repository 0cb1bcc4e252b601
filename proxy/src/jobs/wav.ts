/**
 * The whole-job download: one WAV whose PCM data is every item's, in order. Every item of a job comes from the same
 * model, so they share one format; the header is written first from the lengths recorded when the items completed,
 * then each item's PCM is streamed in turn (one item in memory at a time).
 */
import type { WavMeasure } from "../metering/wav.ts";

export const pcmFormatOf = (w: Pick<WavMeasure, "sampleRate" | "channels" | "bitsPerSample">): string =>
  `${w.sampleRate}/${w.channels}/${w.bitsPerSample}`;

export function parsePcmFormat(format: string): { sampleRate: number; channels: number; bitsPerSample: number } | null {
  const m = /^(\d+)\/(\d+)\/(\d+)$/.exec(format);
  if (!m) return null;
  return { sampleRate: Number(m[1]), channels: Number(m[2]), bitsPerSample: Number(m[3]) };
}

/** A RIFF size is 32 bits: the data of one WAV stays below 4 GiB (about 27 h of 22,050 Hz 16-bit mono). */
export const MAX_WAV_DATA_BYTES = 0xffff_ffff - 36;

/** The 44-byte header of a PCM WAV with `dataBytes` of data. */
export function wavHeader(
  format: { sampleRate: number; channels: number; bitsPerSample: number },
  dataBytes: number,
): Uint8Array {
  if (dataBytes > MAX_WAV_DATA_BYTES) throw new RangeError("WAV data over 4 GiB");
  const header = new Uint8Array(44);
  const v = new DataView(header.buffer);
  const put = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) v.setUint8(at + i, s.charCodeAt(i));
  };
  const blockAlign = format.channels * (format.bitsPerSample / 8);
  put(0, "RIFF");
  v.setUint32(4, 36 + dataBytes, true);
  put(8, "WAVE");
  put(12, "fmt ");
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, format.channels, true);
  v.setUint32(24, format.sampleRate, true);
  v.setUint32(28, format.sampleRate * blockAlign, true);
  v.setUint16(32, blockAlign, true);
  v.setUint16(34, format.bitsPerSample, true);
  put(36, "data");
  v.setUint32(40, dataBytes, true);
  return header;
}

/** The PCM bytes of a WAV (its `data` chunk), or null when there is none. Callers have validated it (measureWav). */
export function pcmData(wav: Uint8Array): Uint8Array | null {
  const view = new DataView(wav.buffer, wav.byteOffset, wav.byteLength);
  let offset = 12;
  while (offset + 8 <= wav.byteLength) {
    const id = String.fromCharCode(wav[offset] ?? 0, wav[offset + 1] ?? 0, wav[offset + 2] ?? 0, wav[offset + 3] ?? 0);
    const size = view.getUint32(offset + 4, true);
    if (id === "data") return wav.subarray(offset + 8, Math.min(wav.byteLength, offset + 8 + size));
    offset += 8 + size + (size % 2);
  }
  return null;
}

/**
 * A stream of one WAV: `header`, then the PCM of each part as `next()` yields it. `next` returns null when the parts
 * are over. A part whose length differs from what the header promised errors the stream (the download is cut short
 * rather than mislabelled).
 */
export function concatenatedWav(
  header: Uint8Array,
  expectedBytes: readonly number[],
  next: (index: number) => Promise<Uint8Array | null>,
): ReadableStream<Uint8Array> {
  let index = -1;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (index === -1) {
        index = 0;
        controller.enqueue(header);
        return;
      }
      if (index >= expectedBytes.length) {
        controller.close();
        return;
      }
      const part = await next(index);
      const pcm = part ? pcmData(part) : null;
      if (!pcm || pcm.byteLength !== expectedBytes[index]) {
        controller.error(new Error(`item ${index} of the job is missing or changed`));
        return;
      }
      index++;
      controller.enqueue(pcm);
    },
  });
}
