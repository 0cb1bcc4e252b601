/**
 * One decode step, host loop vs resident loop, interleaved (issue 13 §7): the graph calls alone, at a fixed batch
 * and history, so the loops' other costs (joins, flushes, beam reorders) and the machine's drifting load stay out.
 *
 *   npx tsx gpu-node/bench/decode-step.ts MODEL_DIR [batch 16] [history 160] [pairs 10] [window 16]
 *
 * host: `gpt_decode` fed the whole cache (capacity rounded as the node does) and a mask; resident:
 * `gpt_decode_resident` fed a window half full and a frozen cache of the rest (capacity rounded as `ResidentCache`
 * rounds it), one frozen row per row (one beam), the window output bound to its input (as `ResidentCache` runs it).
 * Prints the median of each and host / resident.
 */
import { readModelDir } from "../src/adapters/model-dir.ts";
import { OrtBackend } from "../src/adapters/ort-backend.ts";
import { type Feeds, f32, i64, type Tensor } from "../src/engine/backend.ts";

const [dir, B, H0, N] = [
  process.argv[2] ?? "",
  Number(process.argv[3] ?? 16),
  Number(process.argv[4] ?? 160),
  Number(process.argv[5] ?? 10),
];
const T = Number(process.argv[6] ?? 16);
const files = await readModelDir(dir);
const g = files.manifest.gpt;
const heads = g.heads,
  hd = g.model_dim / g.heads,
  L = g.layers;
const backend = await OrtBackend.create(
  { gpt_decode: files.graphPaths.gpt_decode, gpt_decode_resident: files.graphPaths.gpt_decode_resident },
  { executionProviders: ["cpu"], intraOpThreads: 2, interOpThreads: 1, intraOpSpinning: false },
);
const P = Math.ceil((H0 + 1) / 32) * 32;
const frozenLength = H0 - Math.floor(T / 2);
const rnd = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 0.3);
const hostCache = Array.from({ length: 2 * L }, () => rnd(B * heads * P * hd));
const ids = i64(
  Array.from({ length: B }, (_, b) => 5 + b),
  [B, 1],
);
const pos = i64(
  Array.from({ length: B }, () => 50),
  [B],
);
const mask = new BigInt64Array(B * (P + 1));
for (let b = 0; b < B; b++) {
  mask.fill(1n, b * (P + 1), b * (P + 1) + H0);
  mask[b * (P + 1) + P] = 1n;
}
const hostFeeds: Feeds = { mel_ids: ids, mel_pos: pos, attention_mask: i64(mask, [B, P + 1]) };
for (let l = 0; l < L; l++) {
  hostFeeds[`past_key_${l}`] = f32(hostCache[2 * l] as Float32Array, [B, heads, P, hd]);
  hostFeeds[`past_value_${l}`] = f32(hostCache[2 * l + 1] as Float32Array, [B, heads, P, hd]);
}
const ort = await import("onnxruntime-node");
const res = (data: Float32Array, dims: number[]) => ({
  type: "resident" as const,
  handle: new ort.Tensor("float32", data, dims),
  dims,
  bytes: data.byteLength,
});
const frozenP = Math.ceil((frozenLength + 1) / 32) * 32;
const frozen = Array.from({ length: 2 * L }, () => res(rnd(B * heads * frozenP * hd), [B, heads, frozenP, hd]));
const tails = Array.from({ length: 2 * L }, () => res(rnd(B * heads * T * hd), [B, heads, T, hd]));
const resFeeds: Feeds = {
  mel_ids: ids,
  mel_pos: pos,
  lengths: i64(
    Array.from({ length: B }, () => frozenLength),
    [B],
  ),
  tail_lengths: i64(
    Array.from({ length: B }, () => H0 - frozenLength),
    [B],
  ),
  rows: i64(
    Array.from({ length: B }, (_, b) => b),
    [B],
  ),
  groups: i64(
    Array.from({ length: B }, (_, b) => b),
    [B, 1],
  ),
  group_slot: i64(Array.from({ length: B }, (_, b) => [b, 0]).flat(), [B, 2]),
};
const into: Record<string, string> = {};
const keep: string[] = [];
for (let l = 0; l < L; l++)
  for (const [j, k] of [
    [0, "key"],
    [1, "value"],
  ] as const) {
    resFeeds[`past_${k}_${l}`] = frozen[2 * l + j] as Tensor;
    resFeeds[`tail_${k}_${l}`] = tails[2 * l + j] as Tensor;
    into[`present_${k}_${l}`] = `tail_${k}_${l}`;
    keep.push(`present_${k}_${l}`);
  }
const host = async () => {
  const t = performance.now();
  await backend.run("gpt_decode", hostFeeds);
  return performance.now() - t;
};
const resident = async () => {
  const t = performance.now();
  await backend.run("gpt_decode_resident", resFeeds, keep, into);
  return performance.now() - t;
};
await host();
await resident();
const a: number[] = [],
  b: number[] = [];
for (let i = 0; i < N; i++) {
  if (i % 2) {
    a.push(await host());
    b.push(await resident());
  } else {
    b.push(await resident());
    a.push(await host());
  }
}
const med = (x: number[]) => x.sort((p, q) => p - q)[Math.floor(x.length / 2)] ?? NaN;
console.log(
  `B ${B} history ${H0} (host capacity ${P}; resident frozen ${frozenP} + window ${T}): host ${med(a).toFixed(1)} ms, resident ${med(b).toFixed(1)} ms, host/resident ${(med(a) / med(b)).toFixed(3)}`,
);
await backend.close();
