/**
 * libopus (opusscript: libopus 1.4 compiled to WASM) as a Mediabunny encoder, so Mediabunny's Ogg muxer writes the
 * pages, granule positions and headers. Node has no WebCodecs AudioEncoder, which Mediabunny would use otherwise.
 */
import { type AudioCodec, type AudioSample, CustomAudioEncoder, EncodedPacket, registerEncoder } from "mediabunny";
import OpusScript from "opusscript";

/** 20 ms frames: Opus's default and what speech encoders use. */
const FRAME_MS = 20;
/** libopus's lookahead at 48 kHz for the AUDIO application (2.5 ms + 4 ms): what a decoder must skip. */
const PRE_SKIP_48K = 312;
const BITRATE = 32_000;
const COMPLEXITY = 5;

type Rate = 8000 | 12000 | 16000 | 24000 | 48000;

/** The Ogg Opus identification header (RFC 7845 §5.1). */
function opusHead(channels: number, inputRate: number): Uint8Array {
  const head = new Uint8Array(19);
  const v = new DataView(head.buffer);
  head.set(new TextEncoder().encode("OpusHead"), 0);
  v.setUint8(8, 1);
  v.setUint8(9, channels);
  v.setUint16(10, PRE_SKIP_48K, true);
  v.setUint32(12, inputRate, true);
  v.setInt16(16, 0, true);
  v.setUint8(18, 0);
  return head;
}

class OpusScriptEncoder extends CustomAudioEncoder {
  private encoder: OpusScript | null = null;
  private pending = new Int16Array(0);
  private frameSize = 0;
  private sent = 0;
  private first = true;

  static override supports(codec: AudioCodec): boolean {
    return codec === "opus";
  }

  override init(): void {
    const rate = this.config.sampleRate as Rate;
    if (!OpusScript.VALID_SAMPLING_RATES.includes(rate)) throw new Error(`Opus cannot encode at ${rate} Hz`);
    this.encoder = new OpusScript(rate, this.config.numberOfChannels, OpusScript.Application.AUDIO, { wasm: true });
    this.encoder.encoderCTL(4002, this.config.bitrate ?? BITRATE); // OPUS_SET_BITRATE
    // OPUS_SET_COMPLEXITY 5 of 10: half the CPU of the default for speech at 32 kb/s, no audible loss
    this.encoder.encoderCTL(4010, COMPLEXITY);
    this.frameSize = (rate * FRAME_MS) / 1000;
  }

  override encode(sample: AudioSample): void {
    const n = sample.numberOfFrames;
    const pcm = new Int16Array(n);
    sample.copyTo(pcm, { planeIndex: 0, format: "s16" });
    const joined = new Int16Array(this.pending.length + n);
    joined.set(this.pending);
    joined.set(pcm, this.pending.length);
    let at = 0;
    for (; at + this.frameSize <= joined.length; at += this.frameSize)
      this.frame(joined.subarray(at, at + this.frameSize));
    this.pending = joined.slice(at);
  }

  override flush(): void {
    if (this.pending.length > 0) {
      const last = new Int16Array(this.frameSize);
      last.set(this.pending);
      this.pending = new Int16Array(0);
      this.frame(last);
    }
  }

  override close(): void {
    this.encoder?.delete();
    this.encoder = null;
  }

  private frame(pcm: Int16Array): void {
    if (!this.encoder) throw new Error("the Opus encoder is closed");
    const buf = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    const data = new Uint8Array(this.encoder.encode(buf, this.frameSize));
    const rate = this.config.sampleRate;
    const packet = new EncodedPacket(data, "key", this.sent / rate, this.frameSize / rate);
    this.sent += this.frameSize;
    const meta = this.first
      ? {
          decoderConfig: {
            codec: "opus",
            numberOfChannels: this.config.numberOfChannels,
            sampleRate: rate,
            description: opusHead(this.config.numberOfChannels, rate),
          },
        }
      : undefined;
    this.first = false;
    this.onPacket(packet, meta);
  }
}

let registered = false;
export function registerOpusEncoder(): void {
  if (registered) return;
  registered = true;
  registerEncoder(OpusScriptEncoder);
}
