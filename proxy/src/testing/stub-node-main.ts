/** A stand-in GPU node as its own process (so fault tests can SIGKILL it): prints "stub listening on URL". */
import { startStubNode } from "./stack.ts";

const audioMs = Number(process.env.STUB_AUDIO_MS ?? "1000");
const delayMs = Number(process.env.STUB_DELAY_MS ?? "0");
const stub = await startStubNode(audioMs, delayMs);
console.log(`stub listening on ${stub.url}`);

// STUB_SEGMENTS=n: streamed requests are answered as the gpu-node does, n segments each, STUB_DELAY_MS apart
const segments = Number(process.env.STUB_SEGMENTS ?? "0");
if (segments > 0) {
  stub.state.segments = {
    count: segments,
    gate: (index) => new Promise((resolve) => setTimeout(resolve, index === 0 ? 0 : delayMs)),
  };
}
