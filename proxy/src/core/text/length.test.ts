import { describe, expect, it } from "vitest";
import { isProxyError } from "../errors.ts";
import { checkTextLength, codePoints, MAX_TEXT_CODE_POINTS } from "./length.ts";

const verdict = (text: string) => {
  try {
    checkTextLength(text, "input");
    return "ok";
  } catch (e) {
    if (!isProxyError(e)) throw e;
    return { code: e.code, details: e.options.details, message: e.message };
  }
};

describe("the one length rule: 4,096 code points", () => {
  it("counts code points, not UTF-16 units: 1,500 emoji (3,000 units) pass, 4,096 emoji pass, 4,097 do not", () => {
    expect(codePoints("😀".repeat(1500))).toBe(1500);
    expect(verdict("😀".repeat(1500))).toBe("ok");
    expect(verdict("😀".repeat(MAX_TEXT_CODE_POINTS))).toBe("ok");
    expect(verdict("😀".repeat(MAX_TEXT_CODE_POINTS + 1))).toMatchObject({
      code: "TEXT_TOO_LONG",
      details: { field: "input", length: 4097, limit: 4096 },
    });
  });

  it("2,000 × 'x' and 1,990 Chinese characters are within it (the old rule answered '17 segments')", () => {
    expect(verdict("x".repeat(2000))).toBe("ok");
    expect(verdict(`${"语音合成".repeat(497)}语音`)).toBe("ok");
  });

  it("above it the message says the limit and what to do, not how the node segments", () => {
    const v = verdict("x".repeat(5000));
    expect(v).toMatchObject({ code: "TEXT_TOO_LONG" });
    expect((v as { message: string }).message).toMatch(/5000 characters; the limit is 4096/);
    expect((v as { message: string }).message).not.toMatch(/segment/);
  });
});
