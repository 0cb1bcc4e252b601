/**
 * A job's audio in the format the customer asks for (`?format=mp3`, any of audio/formats.ts the runtime encodes).
 * Items are stored as the node's WAV and metered from it when they completed; a download only re-encodes them, so
 * the format changes the bytes, never the bill. One item: encoded whole and its container's duration checked; the
 * whole job: one stream encoder fed item by item (one item in memory at a time), 200 ms between items as in a stream.
 */
import { type AudioFormat, FORMAT_SPECS, isAudioFormat } from "../../../audio/formats.ts";
import { pcm16FromBytes } from "../../../audio/pcm.ts";
import { pcmData } from "../../../audio/wav.ts";
import { ProxyError } from "../core/errors.ts";
import type { AudioCodecs } from "../synthesis/audio-port.ts";

export function downloadFormat(codecs: AudioCodecs, wanted: string | undefined): AudioFormat {
  const format = (wanted ?? "wav").toLowerCase();
  if (!isAudioFormat(format) || !codecs.formats.includes(format)) {
    throw new ProxyError(
      "UNSUPPORTED_FORMAT",
      `format "${format}" is not offered here; use one of ${codecs.formats.join(", ")}`,
      {
        details: { param: "format" },
      },
    );
  }
  return format;
}

export const contentTypeOf = (format: AudioFormat): string => FORMAT_SPECS[format].contentType;

/** One item's stored WAV in `format`. */
export async function encodeItem(
  codecs: AudioCodecs,
  format: AudioFormat,
  wav: Uint8Array,
  sampleRate: number,
  audioMs: number,
): Promise<Uint8Array> {
  const data = pcmData(wav);
  if (!data) throw new ProxyError("INTERNAL", "a stored item has no PCM");
  const encoded = await codecs.encode(format, pcm16FromBytes(data.slice()), sampleRate);
  const verdict = await codecs.verify(format, encoded, audioMs, sampleRate);
  if (!verdict.ok)
    throw new ProxyError("INTERNAL", `the ${format} of the item failed its duration check: ${verdict.reason}`);
  return encoded;
}

/** The items' PCM, one after another, through one stream encoder. */
export function encodedJobStream(
  codecs: AudioCodecs,
  format: AudioFormat,
  sampleRate: number,
  count: number,
  next: (index: number) => Promise<Uint8Array | null>,
): ReadableStream<Uint8Array> {
  let index = 0;
  let encoder: Awaited<ReturnType<AudioCodecs["stream"]>> | null = null;
  return new ReadableStream<Uint8Array>({
    // A pull that enqueues nothing is not called again by the stream: go on until bytes are out or it is the end.
    async pull(controller) {
      try {
        encoder ??= await codecs.stream(format, sampleRate);
        for (;;) {
          if (index >= count) {
            const tail = await encoder.end();
            if (tail.byteLength > 0) controller.enqueue(tail);
            controller.close();
            return;
          }
          const wav = await next(index++);
          const data = wav ? pcmData(wav) : null;
          if (!data) throw new Error(`item ${index - 1} of the job is missing`);
          const bytes = await encoder.push(pcm16FromBytes(data.slice()));
          if (bytes.byteLength > 0) {
            controller.enqueue(bytes);
            return;
          }
        }
      } catch (e) {
        controller.error(e);
      }
    },
  });
}
