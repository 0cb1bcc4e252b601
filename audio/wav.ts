/**
 * Measures the audio a node returned, from the WAV it relays: the proxy bills what it can verify, not what the node
 * claims. A strict RIFF/WAVE reader (PCM only) rather than a library because it is the heart of metering: it must
 * reject anything malformed or truncated instead of guessing, and it runs on Workers too.
 */
export interface WavMeasure {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  dataBytes: number;
  durationMs: number;
  /** where the samples start */
  dataOffset: number;
  /**
   * The header did not know the length (a streamed WAV: data size 0xFFFFFFFF, or 0 with samples after it, as
   * OpenAI-compatible servers write when they stream): `dataBytes` is what actually followed the header.
   */
  streamed: boolean;
}

/** What streaming writers put in the data size when they do not know it yet. */
const UNKNOWN_SIZES = new Set([0xffffffff, 0]);

export type WavResult = { ok: true; wav: WavMeasure } | { ok: false; reason: string };

const ascii = (b: Uint8Array, at: number) =>
  String.fromCharCode(b[at] ?? 0, b[at + 1] ?? 0, b[at + 2] ?? 0, b[at + 3] ?? 0);

export function measureWav(bytes: Uint8Array): WavResult {
  if (bytes.byteLength < 44) return { ok: false, reason: "shorter than a WAV header" };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (ascii(bytes, 0) !== "RIFF" || ascii(bytes, 8) !== "WAVE") return { ok: false, reason: "not a RIFF/WAVE file" };
  let offset = 12;
  let fmt: { format: number; channels: number; sampleRate: number; bitsPerSample: number } | null = null;
  while (offset + 8 <= bytes.byteLength) {
    const id = ascii(bytes, offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === "fmt ") {
      if (size < 16 || body + 16 > bytes.byteLength) return { ok: false, reason: "truncated fmt chunk" };
      fmt = {
        format: view.getUint16(body, true),
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        bitsPerSample: view.getUint16(body + 14, true),
      };
    } else if (id === "data") {
      if (!fmt) return { ok: false, reason: "data chunk before fmt chunk" };
      if (fmt.format !== 1) return { ok: false, reason: `unsupported WAV format ${fmt.format} (PCM only)` };
      if (fmt.channels < 1 || fmt.sampleRate < 1 || fmt.bitsPerSample % 8 !== 0 || fmt.bitsPerSample === 0) {
        return { ok: false, reason: "invalid fmt parameters" };
      }
      const rest = bytes.byteLength - body;
      // A streamed header: the samples are everything after it (the last chunk of such a file).
      const streamed = UNKNOWN_SIZES.has(size) && rest > 0 && size !== rest;
      const dataBytes = streamed ? rest : size;
      if (!streamed && body + size > bytes.byteLength) {
        return { ok: false, reason: "data chunk longer than the body (truncated)" };
      }
      const frameBytes = fmt.channels * (fmt.bitsPerSample / 8);
      if (dataBytes % frameBytes !== 0) return { ok: false, reason: "data length is not a whole number of frames" };
      const frames = dataBytes / frameBytes;
      return {
        ok: true,
        wav: {
          sampleRate: fmt.sampleRate,
          channels: fmt.channels,
          bitsPerSample: fmt.bitsPerSample,
          dataBytes,
          durationMs: (frames * 1000) / fmt.sampleRate,
          dataOffset: body,
          streamed,
        },
      };
    }
    offset = body + size + (size % 2); // chunks are word-aligned
  }
  return { ok: false, reason: "no data chunk" };
}

/**
 * The same audio with the RIFF and data sizes written in, for a streamed WAV (players and our own reader want real
 * sizes). Returns the input itself when the header was already complete.
 */
export function withExactSizes(bytes: Uint8Array, wav: WavMeasure): Uint8Array {
  if (!wav.streamed) return bytes;
  const out = bytes.slice(0, wav.dataOffset + wav.dataBytes);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(4, out.byteLength - 8, true);
  view.setUint32(wav.dataOffset - 4, wav.dataBytes, true);
  return out;
}

export interface PcmFormat {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
}

/** A RIFF size is 32 bits: the data of one WAV stays below 4 GiB (about 27 h of 22,050 Hz 16-bit mono). */
export const MAX_WAV_DATA_BYTES = 0xffff_ffff - 36;

/** What a WAV whose length is not known yet (a stream) carries in its RIFF and data sizes. */
export const STREAMED_WAV_SIZE = 0xffff_ffff;

/** The 44-byte header of a PCM WAV with `dataBytes` of data (`STREAMED_WAV_SIZE`: not known yet, a stream). */
export function wavHeader(format: PcmFormat, dataBytes: number): Uint8Array {
  const streamed = dataBytes === STREAMED_WAV_SIZE;
  if (!streamed && dataBytes > MAX_WAV_DATA_BYTES) throw new RangeError("WAV data over 4 GiB");
  const header = new Uint8Array(44);
  const v = new DataView(header.buffer);
  const put = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) v.setUint8(at + i, s.charCodeAt(i));
  };
  const blockAlign = format.channels * (format.bitsPerSample / 8);
  put(0, "RIFF");
  v.setUint32(4, streamed ? STREAMED_WAV_SIZE : 36 + dataBytes, true);
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
    const size = view.getUint32(offset + 4, true);
    if (ascii(wav, offset) === "data") return wav.subarray(offset + 8, Math.min(wav.byteLength, offset + 8 + size));
    offset += 8 + size + (size % 2);
  }
  return null;
}

/** 16-bit mono PCM → a complete WAV. */
export function wavFromPcm16(pcm: Int16Array, sampleRate: number): Uint8Array {
  const bytes = pcm.byteLength;
  const out = new Uint8Array(44 + bytes);
  out.set(wavHeader({ sampleRate, channels: 1, bitsPerSample: 16 }, bytes), 0);
  out.set(new Uint8Array(pcm.buffer, pcm.byteOffset, bytes), 44);
  return out;
}

/** A valid WAV described (tests and tools); throws on a malformed one. */
export function describeWav(bytes: Uint8Array): {
  sampleRate: number;
  channels: number;
  bitDepth: string;
  samples: number;
  durationMs: number;
} {
  const m = measureWav(bytes);
  if (!m.ok) throw new Error(m.reason);
  const { wav } = m;
  return {
    sampleRate: wav.sampleRate,
    channels: wav.channels,
    bitDepth: String(wav.bitsPerSample),
    samples: wav.dataBytes / (wav.channels * (wav.bitsPerSample / 8)),
    durationMs: wav.durationMs,
  };
}
