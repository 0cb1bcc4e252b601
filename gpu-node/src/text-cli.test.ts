import { execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { TINY_MODEL_DIR } from "./testing/harness.ts";
import { libraryEncode, sentencepieceAvailable } from "./testing/spm-library.ts";
import { prepareText } from "./text/normalize.ts";
import { loadSentencePiece } from "./text/sentencepiece.ts";

const run = promisify(execFile);
const CLI = fileURLToPath(new URL("./text-cli.ts", import.meta.url));
const UNIGRAM = fileURLToPath(new URL("./text/fixtures/unigram_pinyin.model", import.meta.url));

interface Line {
  input: string;
  normalized: string;
  segments: Array<{ text: string; ids: number[] }>;
}

/** Runs the CLI as `npm run text` does, feeding `lines` on stdin; resolves with the parsed output lines. */
function textCli(args: string[], lines: string[]): Promise<Line[]> {
  const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => {
    out += c;
  });
  child.stderr.setEncoding("utf8").on("data", (c: string) => {
    err += c;
  });
  child.stdin.end(lines.map((l) => `${l}\n`).join(""));
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => {
      if (code !== 0) reject(new Error(`text CLI exited with ${code}: ${err}`));
      else
        resolve(
          out
            .trimEnd()
            .split("\n")
            .map((l) => JSON.parse(l) as Line),
        );
    });
  });
}

const INPUTS = [
  "欢迎使用IndexTTS2，支持情感调节！",
  "我们去XVAN4这个地方，这个字读JV4。",
  "The quick brown fox jumps over the lazy dog.",
  "",
  "我",
  `${"今天天气很好我们一起去公园散步吧然后再去图书馆看书。".repeat(8)}`,
];

describe("npm run text (the text front end CLI)", () => {
  it("prints one object per line whose segment ids are the library's ids for the normalised string", async () => {
    const out = await textCli(["--bpe", UNIGRAM, "--max-tokens-per-segment", "60"], INPUTS);
    expect(out.map((o) => o.input)).toEqual(INPUTS);
    // "normalized" is exactly what the front end hands to SentencePiece (a single character goes as is).
    expect(out.map((o) => o.normalized)).toEqual(INPUTS.map((t) => ([...t.trim()].length === 1 ? t : prepareText(t))));
    expect(out[1]?.segments[0]?.text).toContain("XVAN4");
    expect(out[3]).toEqual({ input: "", normalized: "", segments: [] });
    const long = out[5] as Line;
    expect(long.segments.length).toBeGreaterThan(1);
    for (const s of long.segments) expect(s.ids.length).toBeLessThanOrEqual(60);

    const sp = loadSentencePiece(readFileSync(UNIGRAM));
    for (const o of out) {
      const ids = o.segments.flatMap((s) => s.ids);
      // Every id is the tokenizer's; no start/stop text token is added (they are 0 and 1 in this model too).
      expect(ids).toEqual(sp.encode(o.normalized));
      expect(o.segments.map((s) => s.text).join(" ")).toBe(
        o.normalized === "" ? "" : sp.normalize(o.normalized).replaceAll("\u2581", " ").trim(),
      );
    }
    if (sentencepieceAvailable()) {
      const reference =
        libraryEncode(
          [UNIGRAM],
          out.map((o) => o.normalized),
        ).ids[UNIGRAM] ?? [];
      out.forEach((o, i) => {
        expect(o.segments.flatMap((s) => s.ids)).toEqual(reference[i]);
      });
    }
  });

  it("reads a model directory's tokenizer", async () => {
    const [line] = await textCli(["--model", TINY_MODEL_DIR], ["hello world"]);
    expect(line?.normalized).toBe("HELLO WORLD");
    expect(line?.segments[0]?.ids.length).toBeGreaterThan(0);
  });

  it("exits 2 with the usage on bad flags and 1 on a bad model", async () => {
    const both = await run(process.execPath, ["--import", "tsx", CLI, "--bpe", UNIGRAM, "--model", "x"]).catch(
      (e) => e,
    );
    expect(both).toMatchObject({ code: 2 });
    expect((both as { stderr: string }).stderr).toMatch(/exactly one of --model and --bpe[\s\S]*usage:/);
    const bad = await run(process.execPath, ["--import", "tsx", CLI, "--bpe", CLI]).catch((e) => e);
    expect(bad).toMatchObject({ code: 1 });
    expect((bad as { stderr: string }).stderr).toMatch(/cannot load the tokenizer/);
  });
});
