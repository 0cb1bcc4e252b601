/**
 * SentencePiece's text normaliser (normalizer.cc), on UTF-8 bytes like the original: the precompiled charsmap
 * (a Darts-clone double-array trie, longest match), user-defined symbols passed through untouched, and the
 * whitespace rules (remove_extra_whitespaces, add_dummy_prefix, escape_whitespaces → U+2581).
 */
import type { NormalizerSpec } from "./spm-model-proto.ts";
import { KeyTrie } from "./spm-trie.ts";

export const SPACE_SYMBOL = "\u2581";
const utf8Encoder = new TextEncoder();
// ignoreBOM: keep a leading U+FEFF as text; by default TextDecoder silently drops it.
const utf8Decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** Bytes in the UTF-8 character led by `lead` (string_util::OneCharLen: continuation bytes count as 1). */
export function oneCharLen(lead: number): number {
  if (lead < 0xc0) return 1;
  if (lead < 0xe0) return 2;
  if (lead < 0xf0) return 3;
  return 4;
}

/**
 * Length of the valid UTF-8 character at `pos`, or 0 when it is malformed (string_util::DecodeUTF8: overlong forms,
 * surrogates and code points past U+10FFFF are malformed).
 */
export function validCharLen(bytes: Uint8Array, pos: number, end: number): number {
  const b0 = bytes[pos] as number;
  if (b0 < 0x80) return 1;
  const len = oneCharLen(b0);
  if (len === 1 || b0 > 0xf4 || pos + len > end) return 0;
  let cp = b0 & (0xff >> (len + 1));
  for (let i = 1; i < len; i++) {
    const b = bytes[pos + i] as number;
    if ((b & 0xc0) !== 0x80) return 0;
    cp = (cp << 6) | (b & 0x3f);
  }
  const min = len === 2 ? 0x80 : len === 3 ? 0x800 : 0x10000;
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

/**
 * The precompiled charsmap: `<uint32 LE trie size><Darts-clone double array><NUL-terminated replacement strings>`.
 * A unit of the double array packs `has_leaf` (bit 8), `label` (low byte, or bit 31 for non-label units), `value`
 * (low 31 bits of a leaf unit) and `offset` (bits 10+, shifted by 8 more when bit 9 is set).
 */
class CharsMap {
  private readonly units: Uint32Array;
  private readonly normalized: Uint8Array;

  constructor(blob: Uint8Array) {
    if (blob.byteLength <= 4) throw new Error("sentencepiece: blob for normalization rule is broken");
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const trieSize = view.getUint32(0, true);
    if (trieSize >= blob.byteLength) throw new Error("sentencepiece: trie data size exceeds the input blob size");
    const count = trieSize >>> 2;
    this.units = new Uint32Array(count);
    for (let i = 0; i < count; i++) this.units[i] = view.getUint32(4 + i * 4, true);
    this.normalized = blob.subarray(4 + trieSize);
  }

  /** Longest key of the trie that prefixes bytes[pos, end): [length, replacement] or null (commonPrefixSearch). */
  longestPrefix(bytes: Uint8Array, pos: number, end: number): [number, Uint8Array] | null {
    const units = this.units;
    let nodePos = 0;
    let unit = units[0] ?? 0;
    nodePos ^= offsetOf(unit);
    let bestLength = 0;
    let bestValue = 0;
    for (let i = pos; i < end; i++) {
      const c = bytes[i] as number;
      nodePos ^= c;
      unit = units[nodePos] ?? 0;
      if ((unit & 0x800000ff) >>> 0 !== c) break;
      nodePos ^= offsetOf(unit);
      if ((unit >>> 8) & 1) {
        bestLength = i + 1 - pos;
        bestValue = (units[nodePos] ?? 0) & 0x7fffffff;
      }
    }
    if (bestLength === 0) return null;
    let stop = bestValue;
    while (stop < this.normalized.byteLength && this.normalized[stop] !== 0) stop++;
    return [bestLength, this.normalized.subarray(bestValue, stop)];
  }
}

function offsetOf(unit: number): number {
  return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
}

/**
 * Longest match over user-defined symbols (normalizer::PrefixMatcher), on UTF-8 bytes and on JS strings (UTF-16
 * code units). Tries, not lists: the real IndexTTS2 model defines 10,198 symbols.
 */
export class PrefixMatcher {
  private readonly byteTrie = new KeyTrie();
  private readonly unitTrie = new KeyTrie();
  readonly empty: boolean;

  constructor(symbols: readonly string[]) {
    this.empty = symbols.length === 0;
    symbols.forEach((s, i) => {
      this.byteTrie.insert(utf8Encoder.encode(s), i);
      this.unitTrie.insert(codeUnits(s), i);
    });
  }

  /** Byte length of the longest symbol at `pos`, or 0. */
  matchBytes(bytes: Uint8Array, pos: number, end: number): number {
    return this.byteTrie.longestMatch(bytes, pos, end);
  }

  /** UTF-16 length of the longest symbol at `pos`, or 0. */
  matchString(text: string, pos: number): number {
    let node = 0;
    let best = 0;
    for (let i = pos; i < text.length; i++) {
      node = this.unitTrie.step(node, text.charCodeAt(i));
      if (node < 0) break;
      if (this.unitTrie.valueAt(node) >= 0) best = i + 1 - pos;
    }
    return best;
  }
}

function codeUnits(s: string): number[] {
  const units: number[] = [];
  for (let i = 0; i < s.length; i++) units.push(s.charCodeAt(i));
  return units;
}

const SPACE_SYMBOL_BYTES = utf8Encoder.encode(SPACE_SYMBOL);
const SPACE = 0x20;

class ByteBuilder {
  private buf = new Uint8Array(64);
  length = 0;

  push(b: number): void {
    if (this.length === this.buf.byteLength) {
      const next = new Uint8Array(this.buf.byteLength * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = b;
  }

  pushAll(bytes: Uint8Array): void {
    for (const b of bytes) this.push(b);
  }

  endsWith(tail: Uint8Array): boolean {
    if (tail.byteLength > this.length) return false;
    for (let i = 0; i < tail.byteLength; i++) {
      if (this.buf[this.length - tail.byteLength + i] !== tail[i]) return false;
    }
    return true;
  }

  toString(): string {
    return utf8Decoder.decode(this.buf.subarray(0, this.length));
  }
}

/** SentencePiece's text normaliser (normalizer.cc: Normalizer::Normalize), without the alignment bookkeeping. */
export class SpmNormalizer {
  private readonly charsMap: CharsMap | null;

  constructor(
    private readonly spec: NormalizerSpec,
    private readonly treatWhitespaceAsSuffix = false,
    private readonly matcher: PrefixMatcher | null = null,
  ) {
    this.charsMap = spec.precompiledCharsmap.byteLength > 0 ? new CharsMap(spec.precompiledCharsmap) : null;
  }

  /** Normalises one prefix of bytes[pos, end): [bytes consumed, replacement] (NormalizePrefix). */
  private normalizePrefix(bytes: Uint8Array, pos: number, end: number): [number, Uint8Array] {
    if (this.matcher !== null && !this.matcher.empty) {
      const len = this.matcher.matchBytes(bytes, pos, end);
      if (len > 0) return [len, bytes.subarray(pos, pos + len)];
    }
    const hit = this.charsMap?.longestPrefix(bytes, pos, end) ?? null;
    if (hit !== null) return hit;
    const len = validCharLen(bytes, pos, end);
    // A malformed byte becomes U+FFFD and only that byte is consumed.
    if (len === 0) return [1, REPLACEMENT_CHAR_BYTES];
    return [len, bytes.subarray(pos, pos + len)];
  }

  normalize(text: string): string {
    const input = utf8Encoder.encode(text);
    const end = input.byteLength;
    const spec = this.spec;
    let pos = 0;

    if (spec.removeExtraWhitespaces) {
      while (pos < end) {
        const [consumed, out] = this.normalizePrefix(input, pos, end);
        if (!(out.byteLength === 1 && out[0] === SPACE)) break;
        pos += consumed;
      }
    }
    if (pos >= end) return "";

    const out = new ByteBuilder();
    const addWs = (): void => {
      if (spec.escapeWhitespaces) out.pushAll(SPACE_SYMBOL_BYTES);
      else out.push(SPACE);
    };
    if (!this.treatWhitespaceAsSuffix && spec.addDummyPrefix) addWs();

    let isPrevSpace = spec.removeExtraWhitespaces;
    while (pos < end) {
      const [consumed, sp] = this.normalizePrefix(input, pos, end);
      let start = 0;
      if (isPrevSpace) while (start < sp.byteLength && sp[start] === SPACE) start++;
      if (start < sp.byteLength) {
        for (let n = start; n < sp.byteLength; n++) {
          const b = sp[n] as number;
          if (spec.escapeWhitespaces && b === SPACE) out.pushAll(SPACE_SYMBOL_BYTES);
          else out.push(b);
        }
        isPrevSpace = sp[sp.byteLength - 1] === SPACE;
      }
      pos += consumed;
      if (!spec.removeExtraWhitespaces) isPrevSpace = false;
    }

    if (spec.removeExtraWhitespaces) {
      const space = spec.escapeWhitespaces ? SPACE_SYMBOL_BYTES : SPACE_ONLY;
      while (out.endsWith(space)) out.length -= space.byteLength;
    }
    if (this.treatWhitespaceAsSuffix && spec.addDummyPrefix) addWs();
    return out.toString();
  }
}

const REPLACEMENT_CHAR_BYTES = utf8Encoder.encode("\ufffd");
const SPACE_ONLY = Uint8Array.of(SPACE);
