/**
 * The node's sampler driven over stdin/stdout for `hf_beam_check.py` (not part of CI): the script sends one JSON
 * line with the search settings and the uniform stream, then answers each request for logits with the rows of its
 * own model; this side runs `SequenceSearch` exactly as the GPT stage does and prints the codes it chose.
 *
 *   → {"params": {...}, "setup": {...}, "uniforms": [...]}
 *   ← {"need": [[token, …] per running beam]}      (each beam's generated codes so far)
 *   → {"logits": [[…V floats] per running beam]}
 *   ← {"codes": [...], "uniformsUsed": n}
 */
import { createInterface } from "node:readline";
import { type SearchParams, type SearchSetup, SequenceSearch } from "../src/engine/beam-search.ts";

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const next = async () => {
  const { value, done } = await lines.next();
  if (done) throw new Error("stdin closed");
  return JSON.parse(value as string);
};
const send = (msg: unknown) => process.stdout.write(`${JSON.stringify(msg)}\n`);

for (;;) {
  const { value: first, done } = await lines.next();
  if (done) break;
  const { params, setup, uniforms } = JSON.parse(first as string) as {
    params: SearchParams;
    setup: SearchSetup;
    uniforms: number[];
  };
  let used = 0;
  const search = new SequenceSearch(params, setup, () => {
    const u = uniforms[used++];
    if (u === undefined) throw new Error("uniform stream exhausted");
    return u;
  });
  // each running beam's generated codes (the search reports only the last one; track the rest here)
  let sequences: number[][] = Array.from({ length: search.numBeams }, () => []);
  while (!search.done) {
    send({ need: sequences });
    const { logits } = (await next()) as { logits: number[][] };
    const vocab = setup.vocab;
    const flat = new Float32Array(logits.length * vocab);
    for (const [i, row] of logits.entries()) flat.set(row, i * vocab);
    const { parents, done } = search.step(
      flat,
      logits.map((_, i) => i * vocab),
      logits.map(() => null),
    );
    if (done) break;
    const lasts = search.lastCodes();
    sequences = parents.map((p, j) => [...(sequences[p] ?? []), lasts[j] ?? -1]);
  }
  send({ codes: search.result().codes, uniformsUsed: used });
}
