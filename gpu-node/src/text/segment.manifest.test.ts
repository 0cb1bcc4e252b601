import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { manifestSchema } from "../model/manifest.ts";
import { TextFrontEnd } from "./tokenizer.ts";

/** The manifest's `limits.segmentation` picks the segmenter: official by default, lossless on request. */
describe("limits.segmentation", () => {
  const manifest = JSON.parse(readFileSync(new URL("../../models/tiny/manifest.json", import.meta.url), "utf8"));

  it("defaults to the official algorithm and accepts only official or lossless", () => {
    expect(manifestSchema.parse(manifest).limits.segmentation).toBe("official");
    const lossless = { ...manifest, limits: { ...manifest.limits, segmentation: "lossless" } };
    expect(manifestSchema.parse(lossless).limits.segmentation).toBe("lossless");
    const bad = { ...manifest, limits: { ...manifest.limits, segmentation: "greedy" } };
    expect(manifestSchema.safeParse(bad).success).toBe(false);
  });

  it("reaches the front end: a 300-token run-on is cut 120 + 1 + … officially, 120 + 120 + 60 losslessly", () => {
    const bpe = readFileSync(new URL("./fixtures/bpe_bytes.model", import.meta.url));
    const text = "我".repeat(300);
    const official = new TextFrontEnd(bpe, { maxTokensPerSegment: 120, segmentMode: "official" });
    const lossless = new TextFrontEnd(bpe, { maxTokensPerSegment: 120, segmentMode: "lossless" });
    expect(official.segments(text).map((s) => s.ids.length)).toEqual([120, 1, 120, 59]);
    expect(lossless.segments(text).map((s) => s.ids.length)).toEqual([120, 120, 60]);
  });
});
