import { concatBytes, EMPTY } from "./types.ts";

/**
 * Where a muxer's positioned writes land. Bytes up to `released` have left; a later write below that mark would
 * patch something the client already has, which a streamed container must never need (it is an error here, so a
 * muxer option that seeks back is caught by the tests, not by a listener's player).
 */
export class ByteSink {
  private buffer = new Uint8Array(64 * 1024);
  private length = 0;
  private released = 0;

  write(data: Uint8Array, position: number): void {
    if (position < this.released) {
      throw new Error(`the muxer rewrote byte ${position} after ${this.released} bytes had been released`);
    }
    const end = position + data.byteLength;
    if (end > this.buffer.byteLength) {
      const grown = new Uint8Array(Math.max(end, this.buffer.byteLength * 2));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    this.buffer.set(data, position);
    this.length = Math.max(this.length, end);
  }

  /** everything written since the last call */
  take(): Uint8Array {
    if (this.length === this.released) return EMPTY;
    const out = this.buffer.slice(this.released, this.length);
    this.released = this.length;
    return out;
  }

  whole(): Uint8Array {
    return concatBytes([this.buffer.slice(0, this.length)]);
  }
}
