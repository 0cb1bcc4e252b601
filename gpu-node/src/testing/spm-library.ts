/**
 * The reference for tokenizer parity: the C++ SentencePiece library through Debian's python3-sentencepiece
 * (installed by .ci/run). One python3 process encodes every text with every model, so a parity run costs one
 * spawn, not one per string.
 */
import { execFileSync, spawnSync } from "node:child_process";

export const SPM_PYTHON = "/usr/bin/python3";

/** Whether the library can be imported; CI must have it (the tests fail loudly there rather than skip). */
export function sentencepieceAvailable(): boolean {
  return spawnSync(SPM_PYTHON, ["-c", "import sentencepiece"], { stdio: "ignore" }).status === 0;
}

const SCRIPT = `
import json, sys, sentencepiece as spm
req = json.load(sys.stdin)
out = {"version": spm.__version__, "ids": {}}
for path in req["models"]:
    sp = spm.SentencePieceProcessor(model_file=path)
    out["ids"][path] = [sp.encode(t, out_type=int) for t in req["texts"]]
json.dump(out, sys.stdout)
`;

export interface LibraryEncoding {
  /** `sentencepiece.__version__` of the library that produced the ids. */
  readonly version: string;
  /** Per model path, the ids of every text (`EncodeAsIds`). */
  readonly ids: Record<string, number[][]>;
}

/** Encodes every text with every model using the C++ library. */
export function libraryEncode(models: readonly string[], texts: readonly string[]): LibraryEncoding {
  const out = execFileSync(SPM_PYTHON, ["-c", SCRIPT], {
    input: JSON.stringify({ models, texts }),
    maxBuffer: 256 << 20,
  });
  return JSON.parse(out.toString()) as LibraryEncoding;
}
