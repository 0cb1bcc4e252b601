import { describe, expect, it } from "vitest";
import { isSpeakable } from "./speakable.ts";

describe("isSpeakable", () => {
  it("refuses text made only of whitespace, control, zero-width, bidi, BOM or lone combining marks", () => {
    for (const text of [
      "",
      "   \n\t",
      "\u0000\u0001\u001f\u007f\u0085",
      "\u200b\u200c\u200d\u2060\ufeff",
      "\u200e\u200f\u202a\u202e\u2066",
      "\u00ad",
      "\u0301\u0302\ufe0f",
      "\u3000\u00a0",
      "\ue000",
      "\ud800",
    ]) {
      expect(isSpeakable(text), JSON.stringify(text)).toBe(false);
    }
  });

  it("accepts any letter, digit, punctuation or symbol, zero-width characters around it included", () => {
    for (const text of ["a", "\u200bhi\u200b", "欢迎", "42", "…", "!", "😀", "e\u0301"]) {
      expect(isSpeakable(text), JSON.stringify(text)).toBe(true);
    }
  });
});
