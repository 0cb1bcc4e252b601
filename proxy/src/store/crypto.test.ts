import { describe, expect, it } from "vitest";
import { generateApiKey, newId, randomBase62, sha256Hex, timingSafeEqualHex } from "./crypto.ts";

describe("key material", () => {
  it("hashes with SHA-256 to lowercase hex (FIPS 180-2 test vector)", async () => {
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("compares digests: equal, different, different length", () => {
    const a = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    expect(timingSafeEqualHex(a, a.slice())).toBe(true);
    expect(timingSafeEqualHex(a, `${a.slice(0, -1)}c`)).toBe(false);
    expect(timingSafeEqualHex(a, a.slice(0, -2))).toBe(false);
  });

  it("generates tts_live_ keys of 32 base62 characters, with a short display prefix", () => {
    const keys = new Set<string>();
    for (let i = 0; i < 1_000; i++) {
      const { key, prefix } = generateApiKey();
      expect(key).toMatch(/^tts_live_[0-9A-Za-z]{32}$/);
      expect(prefix).toBe(key.slice(0, "tts_live_".length + 4));
      keys.add(key);
    }
    expect(keys.size).toBe(1_000);
  });

  it("draws every base62 character, roughly uniformly (no modulo bias toward the first ones)", () => {
    const counts = new Map<string, number>();
    for (const char of randomBase62(62_000)) counts.set(char, (counts.get(char) ?? 0) + 1);
    expect(counts.size).toBe(62);
    for (const n of counts.values()) expect(n).toBeGreaterThan(800); // expected 1,000 each
  });

  it("makes prefixed ids", () => {
    expect(newId("cus")).toMatch(/^cus_[0-9A-Za-z]{16}$/);
  });
});
