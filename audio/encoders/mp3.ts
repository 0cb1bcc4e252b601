/**
 * MP3 with LAME (wasm-media-encoders: LAME 3.100 compiled to WASM; about 10× faster than the plain-JS lamejs port on
 * this machine, the same bytes). Synchronous and frame by frame once created, so a stream gets its bytes as each
 * segment is encoded. No Xing header: the file is the frames, append-only; readers count frames for its length.
 *
 * The encoder is instantiated from a compiled `WebAssembly.Module` the runtime gives: Node compiles the package's
 * `mp3.wasm` once per process (./mp3-wasm.node.ts), a Worker imports it as a module at build time (workerd may not
 * compile WASM at run time, but may instantiate a bundled module). Instantiating costs well under a millisecond;
 * compiling, which the package's own `createMp3Encoder()` does on every call, about 5 ms.
 */
import { createEncoder } from "wasm-media-encoders";
import { pcm16ToFloat } from "../pcm.ts";
import { concatBytes, type EncoderOptions, type StreamEncoder } from "./types.ts";

/** 64 kb/s CBR mono: clear speech at 22,050 Hz, the same bit rate as the AAC answers. */
const KBPS = 64;

export async function createMp3Encoder(options: EncoderOptions, wasm: WebAssembly.Module): Promise<StreamEncoder> {
  const encoder = await createEncoder("audio/mpeg", wasm);
  encoder.configure({ channels: 1, sampleRate: options.inputRate, bitrate: KBPS });
  const held: Uint8Array[] = [];
  return {
    async push(pcm) {
      // the encoder answers a view of its own memory, reused by the next call: copy it out
      const out = encoder.encode([pcm16ToFloat(pcm)]).slice();
      if (options.streamed) return out;
      held.push(out);
      return new Uint8Array(0);
    },
    async end() {
      held.push(encoder.finalize().slice());
      return concatBytes(held);
    },
  };
}
