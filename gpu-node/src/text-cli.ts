/**
 * `npm run text -- --model DIR` (or `--bpe FILE`): the node's text front end for inspection. Reads lines from stdin
 * and prints one JSON object per line, in order:
 *   {"input": "...", "normalized": "...", "segments": [{"text": "...", "ids": [...]}]}
 * `normalized` is exactly the string handed to SentencePiece (the front end encodes the whole text once, as
 * IndexTTS2 does); each segment's `text` is its slice of that string as the segment's pieces spell it (U+2581 shown
 * as a space) and `ids` its SentencePiece ids, without the GPT's start/stop text tokens.
 */
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { frontEndOptions, readModelDir } from "./adapters/model-dir.ts";
import { SPACE_SYMBOL } from "./text/spm-normalizer.ts";
import { TextFrontEnd, type TextSegment } from "./text/tokenizer.ts";

const USAGE = `usage: npm run text -- (--model DIR | --bpe FILE) [--max-tokens-per-segment N] < lines.txt
  --model DIR                  a model directory (gpu-node/MODEL.md): its bpe.model and its segment limit
  --bpe FILE                   a bare SentencePiece model (Unigram or BPE); segments of at most 120 tokens
  --max-tokens-per-segment N   override the segment limit
prints one JSON object per input line: {"input", "normalized", "segments": [{"text", "ids"}]}`;

function fail(message: string, code: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

async function frontEndFromArgs(): Promise<TextFrontEnd> {
  let values: { model?: string; bpe?: string; "max-tokens-per-segment"?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        model: { type: "string" },
        bpe: { type: "string" },
        "max-tokens-per-segment": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    fail(`${(e as Error).message}\n${USAGE}`, 2);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if ((values.model === undefined) === (values.bpe === undefined))
    fail(`give exactly one of --model and --bpe\n${USAGE}`, 2);
  const override = values["max-tokens-per-segment"];
  const limit = override === undefined ? undefined : Number(override);
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
    fail(`--max-tokens-per-segment must be a positive integer, got ${override}\n${USAGE}`, 2);
  }
  try {
    if (values.model !== undefined) {
      const files = await readModelDir(values.model);
      const options = frontEndOptions(files);
      return new TextFrontEnd(files.bpe, limit === undefined ? options : { ...options, maxTokensPerSegment: limit });
    }
    const bytes = await readFile(values.bpe as string);
    return new TextFrontEnd(bytes, limit === undefined ? {} : { maxTokensPerSegment: limit });
  } catch (e) {
    fail(`cannot load the tokenizer: ${(e as Error).message}`, 1);
  }
}

/** The segment's slice of the SentencePiece input, from its pieces (byte pieces only exist with byte fallback). */
function segmentText(frontEnd: TextFrontEnd, segment: TextSegment): string {
  if (frontEnd.bpe.model.trainerSpec.byteFallback) return frontEnd.bpe.decode(segment.ids);
  return segment.pieces.join("").replaceAll(SPACE_SYMBOL, " ").trim();
}

const frontEnd = await frontEndFromArgs();
const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
for await (const input of lines) {
  const segments = frontEnd.segments(input).map((s) => ({ text: segmentText(frontEnd, s), ids: s.ids }));
  process.stdout.write(`${JSON.stringify({ input, normalized: frontEnd.sentencePieceInput(input), segments })}\n`);
}
