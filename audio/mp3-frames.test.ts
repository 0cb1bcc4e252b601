import { describe, expect, it } from "vitest";
import { measureDuration } from "./duration.ts";
import { encodeAll } from "./encode.ts";
import { mp3FramesDuration } from "./mp3-frames.ts";

describe("mp3FramesDuration (the Worker's MP3 check)", () => {
  it("counts our encoder's frames to the same length Mediabunny's demuxer reads, and refuses garbage", async () => {
    const pcm = new Int16Array(22050 * 3).map((_, i) => Math.round(8000 * Math.sin(i / 9)));
    const mp3 = await encodeAll("mp3", pcm, 22050);
    const ours = mp3FramesDuration(mp3);
    const theirs = await measureDuration("mp3", mp3, 22050);
    expect(ours.ok && theirs.ok).toBe(true);
    if (ours.ok && theirs.ok) expect(Math.abs(ours.durationMs - theirs.durationMs)).toBeLessThan(30);
    if (ours.ok) expect(ours.durationMs - 3000).toBeGreaterThanOrEqual(0);
    expect(mp3FramesDuration(mp3.subarray(0, mp3.byteLength - 10)).ok).toBe(false);
    expect(mp3FramesDuration(new TextEncoder().encode("RIFF....WAVEfmt ")).ok).toBe(false);
  });
});
