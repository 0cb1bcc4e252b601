/**
 * Tokenizer parity: our TypeScript SentencePiece (src/text/sentencepiece.ts) against the C++ library, id for id,
 * on the parity corpus (src/text/parity-corpus.ts: zh, en, mixed, numbers, punctuation, emoji, full-width,
 * pinyin with tones, random; raw and as IndexTTS's front end prepares them). Prints a table per kind and every
 * mismatch; exits 1 on any mismatch. The figures for the real IndexTTS2 bpe.model are in gpu-node/FIDELITY.md.
 *
 * Usage: npx tsx gpu-node/tools/tokenizer-parity.ts --model PATH/bpe.model [--count 2000] [--seed 20261207]
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { libraryEncode, sentencepieceAvailable } from "../src/testing/spm-library.ts";
import { parityCorpus } from "../src/text/parity-corpus.ts";
import { loadSentencePiece } from "../src/text/sentencepiece.ts";

const { values } = parseArgs({
  options: {
    model: { type: "string", multiple: true },
    count: { type: "string", default: "2000" },
    seed: { type: "string", default: "20261207" },
  },
});
const models = values.model ?? [];
if (models.length === 0) {
  console.error("usage: tokenizer-parity.ts --model PATH [--model PATH...] [--count N] [--seed N]");
  process.exit(2);
}
if (!sentencepieceAvailable()) {
  console.error("python3-sentencepiece is missing: apt-get install python3-sentencepiece");
  process.exit(2);
}

const cases = parityCorpus(Number(values.seed), Number(values.count));
const reference = libraryEncode(
  models,
  cases.map((c) => c.text),
);
let failed = false;
for (const path of models) {
  const bytes = readFileSync(path);
  const sp = loadSentencePiece(bytes);
  const sha = createHash("sha256").update(bytes).digest("hex");
  console.log(`\n${path}`);
  console.log(`  sha256 ${sha}, ${sp.constructor.name}, ${sp.vocabSize} pieces, sentencepiece ${reference.version}`);
  const perKind = new Map<string, { n: number; bad: number; tokens: number }>();
  const expected = reference.ids[path] ?? [];
  const started = performance.now();
  const mismatches: string[] = [];
  cases.forEach(({ kind, text }, i) => {
    const ours = sp.encode(text);
    const want = expected[i] ?? [];
    const row = perKind.get(kind) ?? { n: 0, bad: 0, tokens: 0 };
    row.n++;
    row.tokens += want.length;
    if (ours.length !== want.length || ours.some((id, k) => id !== want[k])) {
      row.bad++;
      mismatches.push(
        `  MISMATCH [${kind}] ${JSON.stringify(text)}\n    library ${JSON.stringify(want)}\n    ours    ${JSON.stringify(ours)}`,
      );
    }
    perKind.set(kind, row);
  });
  const ms = performance.now() - started;
  console.log("  kind                   strings  tokens  mismatches");
  let total = 0;
  let bad = 0;
  let tokens = 0;
  for (const [kind, row] of [...perKind].sort(([a], [b]) => a.localeCompare(b))) {
    console.log(
      `  ${kind.padEnd(22)} ${String(row.n).padStart(7)} ${String(row.tokens).padStart(7)} ${String(row.bad).padStart(11)}`,
    );
    total += row.n;
    bad += row.bad;
    tokens += row.tokens;
  }
  console.log(
    `  ${"total".padEnd(22)} ${String(total).padStart(7)} ${String(tokens).padStart(7)} ${String(bad).padStart(11)}`,
  );
  console.log(
    `  unk ids in the library's output: ${expected.flat().filter((id) => id === sp.unkId).length}; our encode: ${ms.toFixed(0)} ms`,
  );
  for (const m of mismatches.slice(0, 20)) console.log(m);
  if (bad > 0) failed = true;
}
process.exit(failed ? 1 : 0);
