import { describe, expect, it } from "vitest";
import { randomBase62, sha256Hex } from "../../store/crypto.ts";
import { nodeSha256Hex } from "./sha256.ts";

describe("node:crypto SHA-256", () => {
  it("gives the same lowercase hex as the Web Crypto hash, for keys, empty and non-ASCII text", async () => {
    const inputs = [
      "",
      "abc",
      "欢迎使用IndexTTS2",
      "ключ 🔑",
      ...Array.from({ length: 50 }, (_, i) => randomBase62(i)),
    ];
    for (const text of inputs) expect(nodeSha256Hex(text), text).toBe(await sha256Hex(text));
    expect(nodeSha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});
