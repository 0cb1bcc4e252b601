import { describe, expect, it } from "vitest";
import { splitText } from "./segment.ts";

const chars = (s: string) => [...s].length;
const squash = (s: string) => s.replace(/\s+/g, "");

describe("splitText", () => {
  it("cuts at sentence ends and merges whole sentences up to the limit", () => {
    const text = "第一句话。第二句话！第三句话？第四句。";
    expect(splitText(text, 10)).toEqual(["第一句话。第二句话！", "第三句话？第四句。"]);
    expect(splitText(text, 100)).toEqual([text]);
  });

  it("splits English at sentence ends and keeps words whole", () => {
    const text = "The quick brown fox jumps. Over the lazy dog! And then it sleeps? Yes.";
    const parts = splitText(text, 30);
    expect(parts).toEqual(["The quick brown fox jumps.", "Over the lazy dog!", "And then it sleeps? Yes."]);
  });

  it("cuts an over-long sentence at clauses, then between words, never over the limit", () => {
    const long = `${"alpha beta gamma, ".repeat(10)}end.`;
    const parts = splitText(long, 40);
    expect(parts.length).toBeGreaterThan(4);
    for (const p of parts) expect(chars(p)).toBeLessThanOrEqual(40);
    expect(squash(parts.join(""))).toBe(squash(long));
    const words = splitText(`${"word ".repeat(50)}.`, 23);
    for (const p of words) {
      expect(chars(p)).toBeLessThanOrEqual(23);
      expect(p).toMatch(/^(word ?)+\.?$/);
    }
  });

  it("hard-cuts only a single run longer than the limit", () => {
    const run = "x".repeat(25);
    expect(splitText(run, 10)).toEqual(["x".repeat(10), "x".repeat(10), "x".repeat(5)]);
    // Chinese without punctuation is cut between the words ICU finds, each piece within the limit.
    const chinese = "我们今天在这里讨论语音合成系统的批处理队列设计方案以及它的服务质量保障".repeat(2);
    const parts = splitText(chinese, 10);
    for (const p of parts) expect(chars(p)).toBeLessThanOrEqual(10);
    expect(parts.join("")).toBe(chinese);
  });

  it("keeps every character (up to whitespace) over a long mixed text, with every segment within the limit", () => {
    const text = Array.from({ length: 200 }, (_, i) =>
      i % 3 === 0 ? `句子${i}号，包含逗号和句号。` : i % 3 === 1 ? `Sentence ${i}, with a comma; and more. ` : "短！",
    ).join("\n");
    for (const max of [20, 57, 300]) {
      const parts = splitText(text, max);
      for (const p of parts) {
        expect(chars(p)).toBeLessThanOrEqual(max);
        expect(p).toBe(p.trim());
        expect(p.length).toBeGreaterThan(0);
      }
      expect(squash(parts.join(""))).toBe(squash(text));
    }
  });

  it("gives nothing for empty or blank text, and refuses a bad limit", () => {
    expect(splitText("", 10)).toEqual([]);
    expect(splitText(" \n\n ", 10)).toEqual([]);
    expect(() => splitText("a", 0)).toThrow(RangeError);
  });
});
