import wavefile from "wavefile";

/** Float samples in [-1, 1] → 16-bit PCM mono WAV (what IndexTTS2 writes: ×32767, clamped). */
export function encodeWav16(samples: Float32Array, sampleRate: number): Uint8Array {
  const pcm = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.round((samples[i] ?? 0) * 32767);
    pcm[i] = Math.max(-32768, Math.min(32767, v));
  }
  const wav = new wavefile.WaveFile();
  wav.fromScratch(1, sampleRate, "16", pcm);
  return wav.toBuffer();
}

export interface WavInfo {
  sampleRate: number;
  channels: number;
  bitDepth: string;
  samples: number;
  durationMs: number;
}

/** Parse a WAV and describe it (tests, and the proxy's cross-check of audio duration). */
export function describeWav(bytes: Uint8Array): WavInfo {
  const wav = new wavefile.WaveFile();
  wav.fromBuffer(bytes, false);
  const fmt = wav.fmt as { sampleRate: number; numChannels: number; bitsPerSample: number };
  const data = wav.data as { chunkSize: number };
  const samples = data.chunkSize / (fmt.numChannels * (fmt.bitsPerSample / 8));
  return {
    sampleRate: fmt.sampleRate,
    channels: fmt.numChannels,
    bitDepth: wav.bitDepth,
    samples,
    durationMs: (samples / fmt.sampleRate) * 1000,
  };
}
