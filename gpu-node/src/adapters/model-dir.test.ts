import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestNode, TINY_MODEL_DIR } from "../testing/harness.ts";
import { SentencePieceUnigram } from "../text/sentencepiece.ts";
import { TextFrontEnd } from "../text/tokenizer.ts";
import { frontEndOptions, readModelDir } from "./model-dir.ts";

// A Unigram tokenizer shaped like IndexTTS2's real bpe.model (<s>=0, </s>=1, <unk>=2, pinyin user symbols, nmt_nfkc),
// trained by gpu-node/src/text/fixtures/make-unigram-fixtures.sh; 1,800 pieces fit the tiny model's 2,000 rows.
const UNIGRAM = fileURLToPath(new URL("../text/fixtures/unigram_pinyin.model", import.meta.url));

describe("a model directory whose bpe.model is a SentencePiece Unigram model (as IndexTTS2's)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "unigram-model-"));
    await cp(TINY_MODEL_DIR, dir, { recursive: true });
    await cp(UNIGRAM, join(dir, "bpe.model"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("starts a node that reads text with it and speaks", async () => {
    const node = await createTestNode({}, dir);
    try {
      expect(node.text.bpe).toBeInstanceOf(SentencePieceUnigram);
      const segments = node.text.segments("我们去XVAN4这个地方，JV4。");
      expect(segments.flatMap((s) => s.pieces)).toContain("XVAN4");
      const res = await node.app.request("/synthesize", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: "欢迎使用IndexTTS2，XVAN4。", speaker_id: 0, max_tokens: 8 }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("audio/wav");
    } finally {
      await node.close();
    }
  });

  it("is refused at start-up when the tokenizer has more pieces than the GPT has text rows", async () => {
    const manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8"));
    const small = await mkdtemp(join(tmpdir(), "unigram-small-"));
    try {
      await cp(dir, small, { recursive: true });
      manifest.gpt.number_text_tokens = 1000;
      await writeFile(join(small, "manifest.json"), JSON.stringify(manifest));
      await expect(readModelDir(small)).rejects.toThrow(/has 1800 pieces but gpt.number_text_tokens is 1000/);
      await writeFile(join(small, "bpe.model"), "not a model");
      await expect(readModelDir(small)).rejects.toThrow(/not a usable SentencePiece model/);
    } finally {
      await rm(small, { recursive: true, force: true });
    }
  });
});

describe("a model directory with a glossary.yaml (read by IndexTTS2's infer_v2.py when present)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "glossary-model-"));
    await cp(TINY_MODEL_DIR, dir, { recursive: true });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("gives the text front end its readings", async () => {
    const text = "支持PCIe 5.0";
    const without = new TextFrontEnd((await readModelDir(dir)).bpe, frontEndOptions(await readModelDir(dir)));
    expect(without.sentencePieceInput(text)).toBe("支 持 PCIE 五 点 零");
    await writeFile(join(dir, "glossary.yaml"), "PCIe 5.0:\n  zh: 第五代PCIE\n  en: PCIE five\n");
    const files = await readModelDir(dir);
    expect(files.glossary).toEqual({ "PCIe 5.0": { zh: "第五代PCIE", en: "PCIE five" } });
    const withGlossary = new TextFrontEnd(files.bpe, frontEndOptions(files));
    expect(withGlossary.sentencePieceInput(text)).toBe("支 持 第 五 代 PCIE");
    expect(withGlossary.segments(text)).not.toEqual(without.segments(text));
  });

  it("refuses to start on a glossary it cannot read, naming the file", async () => {
    await writeFile(join(dir, "glossary.yaml"), "PCIe: 5\n");
    await expect(readModelDir(dir)).rejects.toThrow(/glossary\.yaml: the reading of "PCIe" must be a string/);
  });
});
