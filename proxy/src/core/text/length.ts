/**
 * The one length rule for every text the API takes (POST /v1/tts, /v1/audio/speech, each job item): at most 4,096
 * characters, counted as Unicode code points (what a customer counts: an emoji or a CJK character is one), as OpenAI
 * documents for `input`. Checked before anything is queued; the number of segments the node will make of the text is
 * no limit a customer has to know about (the proxy splits long texts itself, see synthesis/pieces.ts).
 */
import { ProxyError } from "../errors.ts";

export const MAX_TEXT_CODE_POINTS = 4096;

export const codePoints = (text: string): number => {
  let n = 0;
  for (const _ of text) n++;
  return n;
};

/** Throws 400 TEXT_TOO_LONG (`details.limit`, `details.length`) when `text` is over the limit. */
export function checkTextLength(text: string, field = "text", limit = MAX_TEXT_CODE_POINTS): void {
  const length = codePoints(text);
  if (length > limit) {
    throw new ProxyError(
      "TEXT_TOO_LONG",
      `${field} has ${length} characters; the limit is ${limit} characters (Unicode code points) per request: split the text, or use the jobs API for longer texts`,
      { details: { field, length, limit } },
    );
  }
}
