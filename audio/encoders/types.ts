/** An encoder fed 16-bit mono PCM at the model's rate, a chunk at a time, handing back the bytes it can release. */
export interface StreamEncoder {
  /** encoded bytes ready after these samples (may be empty: codecs work in frames) */
  push(pcm: Int16Array): Promise<Uint8Array>;
  /** the rest: the last frames and any trailer; the encoder is done after it */
  end(): Promise<Uint8Array>;
}

export interface EncoderOptions {
  /** the rate of the PCM given to `push` */
  inputRate: number;
  /**
   * The bytes go out as they are made, so nothing already released can be patched later: containers are written
   * append-only (no Xing index, sizes "unknown" in WAV/FLAC headers). Whole files get exact headers.
   */
  streamed: boolean;
}

export const EMPTY = new Uint8Array(0);

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1 && parts[0]) return parts[0];
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
