/**
 * `stream_format: "sse"` as OpenAI's clients read it: `speech.audio.delta` events with base64 audio, then one
 * `speech.audio.done` with usage. input_tokens counts the input's characters (code points; text is not what we
 * bill), output_tokens the audio tokens metered (50 per second), total_tokens their sum.
 *
 * A streamed answer sends one delta per piece as it is made (speech-stream.ts).
 */
import type { UsageEvent } from "../../store/ports.ts";

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

const encoder = new TextEncoder();

/** One `speech.audio.delta` event. */
export function sseDelta(bytes: Uint8Array): Uint8Array {
  return encoder.encode(`data: ${JSON.stringify({ type: "speech.audio.delta", audio: base64(bytes) })}\n\n`);
}

/** The final `speech.audio.done` event with usage. */
export function sseDone(usage: Pick<UsageEvent, "inputChars" | "tokens">): Uint8Array {
  const body = {
    type: "speech.audio.done",
    usage: {
      input_tokens: usage.inputChars,
      output_tokens: usage.tokens,
      total_tokens: usage.inputChars + usage.tokens,
    },
  };
  return encoder.encode(`data: ${JSON.stringify(body)}\n\n`);
}
