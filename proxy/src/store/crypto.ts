/**
 * Key material and hashing with web-standard APIs only (crypto.getRandomValues, crypto.subtle), so the same code runs
 * on Node and Workers.
 */

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** Bytes ≥ 248 are rejected: 248 = 4 × 62, so `byte % 62` stays uniform (no modulo bias). */
const UNBIASED_LIMIT = 248;

export const API_KEY_PREFIX = "tts_live_";
/** 32 base62 characters ≈ 190 bits of entropy. */
const API_KEY_RANDOM_CHARS = 32;
/** Characters of the random part kept in the display prefix; enough to tell keys apart, far too few to guess one. */
const DISPLAY_PREFIX_CHARS = 4;

export function randomBase62(length: number): string {
  let out = "";
  // A few spare bytes cover the rejected ones; getRandomValues fills at most 65,536 bytes per call.
  const buffer = new Uint8Array(Math.min(length + 16, 65_536));
  while (out.length < length) {
    crypto.getRandomValues(buffer);
    for (const byte of buffer) {
      if (byte >= UNBIASED_LIMIT) continue;
      out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** A new API key and the prefix shown in key lists (`tts_live_AbC1`). */
export function generateApiKey(): { key: string; prefix: string } {
  const random = randomBase62(API_KEY_RANDOM_CHARS);
  return { key: API_KEY_PREFIX + random, prefix: API_KEY_PREFIX + random.slice(0, DISPLAY_PREFIX_CHARS) };
}

/** A record id such as `cus_3fK9…` (16 base62 characters ≈ 95 bits: no coordination needed to stay unique). */
export const newId = (prefix: string): string => `${prefix}_${randomBase62(16)}`;

/** Lowercase hex SHA-256 of the UTF-8 text: what `api_keys.hash` stores. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  let hex = "";
  for (const byte of new Uint8Array(digest)) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/**
 * Compares two hex digests in time that depends only on their length, not on where they first differ, so a
 * comparison of secrets (admin tokens, webhook signatures) leaks nothing through timing. Compare lowercase hex, as
 * `sha256Hex` produces. The length itself is not secret for a digest.
 */
export function timingSafeEqualHex(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
