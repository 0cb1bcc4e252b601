/**
 * The response formats every route offers (OpenAI's list: `/v1/audio/speech`'s `response_format`), what each is on
 * the wire, and how far its container's own duration may stray from the PCM it was made from.
 */
export const AUDIO_FORMATS = ["mp3", "opus", "aac", "flac", "wav", "pcm"] as const;
export type AudioFormat = (typeof AUDIO_FORMATS)[number];

export const isAudioFormat = (v: string): v is AudioFormat => (AUDIO_FORMATS as readonly string[]).includes(v);

export interface FormatSpec {
  contentType: string;
  /**
   * The rate the encoder is given: the model's 22,050 Hz where the codec takes it; OpenAI's 24 kHz for `pcm` (as it
   * defines the format) and for Opus (which has no 22,050 Hz mode).
   */
  sampleRate: number | "model";
  /**
   * The container's duration measured back may exceed the PCM's by the codec's framing: the last frame is padded
   * (MP3 1,152, AAC 1,024 samples) and the encoder's priming frame counts in frame-counting parsers. Opus and FLAC
   * record the exact length (granule position minus pre-skip; STREAMINFO), WAV and PCM are exact.
   */
  slackMs: { below: number; above: number };
}

export const FORMAT_SPECS: Record<AudioFormat, FormatSpec> = {
  mp3: { contentType: "audio/mpeg", sampleRate: "model", slackMs: { below: 1, above: 160 } },
  opus: { contentType: "audio/ogg; codecs=opus", sampleRate: 24_000, slackMs: { below: 25, above: 25 } },
  aac: { contentType: "audio/aac", sampleRate: "model", slackMs: { below: 1, above: 160 } },
  flac: { contentType: "audio/flac", sampleRate: "model", slackMs: { below: 1, above: 1 } },
  wav: { contentType: "audio/wav", sampleRate: "model", slackMs: { below: 1, above: 1 } },
  pcm: { contentType: "audio/pcm", sampleRate: 24_000, slackMs: { below: 2, above: 2 } },
};

export const encoderSampleRate = (format: AudioFormat, modelRate: number): number => {
  const rate = FORMAT_SPECS[format].sampleRate;
  return rate === "model" ? modelRate : rate;
};
