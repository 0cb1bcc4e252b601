/**
 * `stream_format: "sse"` as OpenAI's clients read it: `speech.audio.delta` events with base64 audio, then one
 * `speech.audio.done` with usage. input_tokens counts the input's characters (code points; text is not what we
 * bill), output_tokens the audio tokens metered (50 per second), total_tokens their sum.
 *
 * The events are written once the whole answer is metered (the usage row is durable first, as for any answer):
 * this is the event framing, not yet incremental delivery (see proxy/README.md, "Streaming").
 */
import type { UsageEvent } from "../../store/ports.ts";

/** raw bytes per delta event: 24 KiB of audio → 32 KiB of base64 */
const DELTA_BYTES = 24 * 1024;

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

export function sseBody(audio: Uint8Array, event: Pick<UsageEvent, "inputChars" | "tokens">): Uint8Array {
  const lines: string[] = [];
  for (let at = 0; at < audio.byteLength; at += DELTA_BYTES) {
    const delta = { type: "speech.audio.delta", audio: base64(audio.subarray(at, at + DELTA_BYTES)) };
    lines.push(`data: ${JSON.stringify(delta)}\n\n`);
  }
  const usage = {
    input_tokens: event.inputChars,
    output_tokens: event.tokens,
    total_tokens: event.inputChars + event.tokens,
  };
  lines.push(`data: ${JSON.stringify({ type: "speech.audio.done", usage })}\n\n`);
  return new TextEncoder().encode(lines.join(""));
}
