/**
 * The samples in a FLAC stream counted from its frame headers (RFC 9639 §9.1), for a streamed FLAC whose STREAMINFO
 * says 0 ("unknown"). Mediabunny estimates such a length from the frames too, but misreads streams of silence
 * (constant subframes); this walks every frame header instead: a header counts only where its CRC-8 holds and its
 * frame number is the next one, so bytes in the audio that happen to look like a sync code are not taken for frames.
 */

const crc8Table = (() => {
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let b = 0; b < 8; b++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff;
    t[i] = c;
  }
  return t;
})();

const crc8 = (bytes: Uint8Array, from: number, to: number): number => {
  let c = 0;
  for (let i = from; i < to; i++) c = crc8Table[c ^ (bytes[i] ?? 0)] ?? 0;
  return c;
};

/** Where the first frame starts: after "fLaC" and the metadata blocks. */
function firstFrame(bytes: Uint8Array): number | null {
  let at = 4;
  for (;;) {
    if (at + 4 > bytes.byteLength) return null;
    const header = bytes[at] ?? 0;
    const length = ((bytes[at + 1] ?? 0) << 16) | ((bytes[at + 2] ?? 0) << 8) | (bytes[at + 3] ?? 0);
    at += 4 + length;
    if (header & 0x80) return at;
  }
}

/** A frame header at `at`: its frame number and block size, or null where there is none. */
function frameHeader(bytes: Uint8Array, at: number): { number: number; blockSize: number } | null {
  if (bytes[at] !== 0xff || ((bytes[at + 1] ?? 0) & 0xfe) !== 0xf8) return null;
  if ((bytes[at + 1] ?? 0) & 0x01) return null; // variable block size: numbered by sample, not written by libFLAC here
  const sizeCode = (bytes[at + 2] ?? 0) >> 4;
  const rateCode = (bytes[at + 2] ?? 0) & 0x0f;
  if (sizeCode === 0 || rateCode === 15 || ((bytes[at + 3] ?? 0) & 0x01) !== 0) return null;
  let p = at + 4;
  const lead = bytes[p] ?? 0xff;
  let extra = 0;
  let number = 0;
  if (lead < 0x80) number = lead;
  else if (lead >= 0xc0 && lead < 0xfe) {
    extra = lead >= 0xfc ? 5 : lead >= 0xf8 ? 4 : lead >= 0xf0 ? 3 : lead >= 0xe0 ? 2 : 1;
    number = lead & (0x3f >> extra);
    for (let i = 1; i <= extra; i++) {
      const b = bytes[p + i] ?? 0;
      if ((b & 0xc0) !== 0x80) return null;
      number = number * 64 + (b & 0x3f);
    }
  } else return null;
  p += 1 + extra;
  let blockSize: number;
  if (sizeCode === 1) blockSize = 192;
  else if (sizeCode <= 5) blockSize = 576 * 2 ** (sizeCode - 2);
  else if (sizeCode === 6) blockSize = (bytes[p++] ?? 0) + 1;
  else if (sizeCode === 7) {
    blockSize = (((bytes[p] ?? 0) << 8) | (bytes[p + 1] ?? 0)) + 1;
    p += 2;
  } else blockSize = 256 * 2 ** (sizeCode - 8);
  if (rateCode === 12) p += 1;
  else if (rateCode === 13 || rateCode === 14) p += 2;
  if (p >= bytes.byteLength || crc8(bytes, at, p) !== bytes[p]) return null;
  return { number, blockSize };
}

/** Samples in all frames, or null when the bytes are no FLAC stream. */
export function flacFrameSamples(bytes: Uint8Array): number | null {
  const start = firstFrame(bytes);
  if (start === null) return null;
  let samples = 0;
  let expected = 0;
  for (let at = start; at + 6 <= bytes.byteLength; at++) {
    const frame = frameHeader(bytes, at);
    if (!frame || frame.number !== expected) continue;
    samples += frame.blockSize;
    expected++;
  }
  return expected > 0 ? samples : null;
}
