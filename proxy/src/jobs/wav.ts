/**
 * The whole-job download: one WAV whose PCM data is every item's, in order. Every item of a job comes from the same
 * model, so they share one format; the header is written first from the lengths recorded when the items completed,
 * then each item's PCM is streamed in turn (one item in memory at a time).
 */
import { pcmData, type WavMeasure } from "../../../audio/wav.ts";

export { MAX_WAV_DATA_BYTES, wavHeader } from "../../../audio/wav.ts";

export const pcmFormatOf = (w: Pick<WavMeasure, "sampleRate" | "channels" | "bitsPerSample">): string =>
  `${w.sampleRate}/${w.channels}/${w.bitsPerSample}`;

export function parsePcmFormat(format: string): { sampleRate: number; channels: number; bitsPerSample: number } | null {
  const m = /^(\d+)\/(\d+)\/(\d+)$/.exec(format);
  if (!m) return null;
  return { sampleRate: Number(m[1]), channels: Number(m[2]), bitsPerSample: Number(m[3]) };
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
