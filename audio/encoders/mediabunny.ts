/**
 * AAC-LC (FFmpeg's encoder in WASM, @mediabunny/aac-encoder) and Opus (libopus, ./opus.ts) through Mediabunny, whose
 * muxers write the containers (ADTS, Ogg). The AAC encoder runs in a worker thread: its frames reach the stream a
 * little after the samples that made them (a stream's AAC bytes lag by up to one push).
 */
import { registerAacEncoder } from "@mediabunny/aac-encoder";
import {
  AdtsOutputFormat,
  AudioSample,
  AudioSampleSource,
  OggOutputFormat,
  Output,
  StreamTarget,
  type StreamTargetChunk,
} from "mediabunny";
import { pcm16ToFloat } from "../pcm.ts";
import { createResampler } from "../resample.ts";
import { registerOpusEncoder } from "./opus.ts";
import { ByteSink } from "./sink.ts";
import { EMPTY, type EncoderOptions, type StreamEncoder } from "./types.ts";

export type MediabunnyFormat = "aac" | "opus";

const BITRATES: Record<MediabunnyFormat, number> = { aac: 64_000, opus: 32_000 };

let registered = false;
function registerEncoders(): void {
  if (registered) return;
  registered = true;
  registerAacEncoder();
  registerOpusEncoder();
}

export async function createMediabunnyEncoder(
  format: MediabunnyFormat,
  options: EncoderOptions & { outputRate: number },
): Promise<StreamEncoder> {
  registerEncoders();
  const sink = new ByteSink();
  const writable = new WritableStream<StreamTargetChunk>({
    write(chunk) {
      sink.write(chunk.data, chunk.position);
    },
  });
  const container = format === "aac" ? new AdtsOutputFormat() : new OggOutputFormat();
  const output = new Output({ format: container, target: new StreamTarget(writable) });
  const source = new AudioSampleSource({ codec: format, bitrate: BITRATES[format] });
  output.addAudioTrack(source);
  await output.start();
  const resampler = await createResampler(options.inputRate, options.outputRate);
  let written = 0;

  const add = async (samples: Float32Array) => {
    if (samples.length === 0) return;
    const sample = new AudioSample({
      data: samples,
      format: "f32",
      numberOfChannels: 1,
      sampleRate: options.outputRate,
      timestamp: written / options.outputRate,
    });
    written += samples.length;
    try {
      await source.add(sample);
    } finally {
      sample.close();
    }
  };

  return {
    async push(pcm) {
      await add(resampler.push(pcm16ToFloat(pcm)));
      // A whole file is released at the end: its muxer may still go back (the MP3 Xing index).
      return options.streamed ? sink.take() : EMPTY;
    },
    async end() {
      try {
        await output.finalize();
      } finally {
        resampler.destroy();
      }
      return options.streamed ? sink.take() : sink.whole();
    },
  };
}
