/**
 * MP3's length from its frame headers alone, for runtimes where Mediabunny's demuxers cannot load (it imports
 * `node:fs/promises`, which a Worker without nodejs_compat refuses). Layer III only, as our encoder writes it: frames
 * back to back from the first byte (no ID3 tag, no Xing frame). Anything else is refused, not guessed at.
 */

const BITRATES_KBPS = {
  v1: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  v2: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const SAMPLE_RATES: Record<number, readonly number[]> = {
  3: [44100, 48000, 32000], // MPEG-1
  2: [22050, 24000, 16000], // MPEG-2
  0: [11025, 12000, 8000], // MPEG-2.5
};

export function mp3FramesDuration(
  bytes: Uint8Array,
): { ok: true; durationMs: number; frames: number } | { ok: false; reason: string } {
  let at = 0;
  let samples = 0;
  let rate = 0;
  let frames = 0;
  while (at < bytes.byteLength) {
    if (bytes.byteLength - at < 4)
      return { ok: false, reason: `${bytes.byteLength - at} stray bytes after frame ${frames}` };
    const b1 = bytes[at + 1] ?? 0;
    const b2 = bytes[at + 2] ?? 0;
    if (bytes[at] !== 0xff || (b1 & 0xe0) !== 0xe0) return { ok: false, reason: `no frame sync at byte ${at}` };
    const version = (b1 >> 3) & 0b11;
    const layer = (b1 >> 1) & 0b11;
    const frameRates = SAMPLE_RATES[version];
    if (!frameRates || layer !== 0b01) return { ok: false, reason: `not an MPEG Layer III frame at byte ${at}` };
    const kbps = (version === 3 ? BITRATES_KBPS.v1 : BITRATES_KBPS.v2)[(b2 >> 4) & 0xf];
    const frameRate = frameRates[(b2 >> 2) & 0b11];
    if (!kbps || !frameRate) return { ok: false, reason: `a free-format or reserved frame header at byte ${at}` };
    if (rate !== 0 && frameRate !== rate) return { ok: false, reason: "frames at different sample rates" };
    rate = frameRate;
    const perFrame = version === 3 ? 1152 : 576;
    const length = Math.floor(((perFrame / 8) * kbps * 1000) / frameRate) + ((b2 >> 1) & 1);
    if (at + length > bytes.byteLength) return { ok: false, reason: `frame ${frames} is cut short` };
    at += length;
    samples += perFrame;
    frames++;
  }
  if (frames === 0) return { ok: false, reason: "no MP3 frames" };
  return { ok: true, durationMs: (samples / rate) * 1000, frames };
}
