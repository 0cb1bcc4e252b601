import * as ort from "onnxruntime-node";
import type { Manifest } from "../src/model/manifest.ts";
import { matmulModel } from "./onnx-matmul.ts";

/** Best FLOP/s onnxruntime reaches on a plain square MatMul on this machine (the roofline the decode is held to). */
export async function measureMatmulPeak(threads: number): Promise<{ gflops: number; size: number; ms: number }> {
  const session = await ort.InferenceSession.create(matmulModel(), { intraOpNumThreads: threads });
  let best = { gflops: 0, size: 0, ms: 0 };
  for (const n of [512, 1024, 1536, 2048]) {
    const a = new ort.Tensor(
      "float32",
      Float32Array.from({ length: n * n }, (_, i) => (i % 7) * 0.1),
      [n, n],
    );
    const b = new ort.Tensor(
      "float32",
      Float32Array.from({ length: n * n }, (_, i) => (i % 5) * 0.1),
      [n, n],
    );
    await session.run({ A: a, B: b });
    const reps = Math.max(3, Math.round(2e10 / (2 * n ** 3)));
    const times: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t = performance.now();
      await session.run({ A: a, B: b });
      times.push(performance.now() - t);
    }
    const ms = Math.min(...times);
    const gflops = (2 * n ** 3) / ms / 1e6;
    if (gflops > best.gflops) best = { gflops, size: n, ms };
  }
  await session.release();
  return best;
}

/** FLOPs of one GPT decode step for one row at cache length `past` (matmuls and attention; norms are noise). */
export function decodeFlopsPerRow(m: Manifest, past: number): number {
  const d = m.gpt.model_dim;
  const layers = m.gpt.layers;
  const perLayerWeights = 4 * d * d + 8 * d * d; // qkv + out projection, MLP 4D up and down
  const attention = 2 * d * (past + 1); // QK^T and AV over the cache
  return 2 * (layers * (perLayerWeights + attention) + d * m.gpt.number_mel_codes);
}

export interface DecodeMeasurement {
  batch: number;
  past: number;
  msPerStep: number;
  gflops: number;
}

/** Time decode steps at a given batch size, from a cache of `past` positions, feeding present back as past. */
export async function measureDecode(
  graphPath: string,
  m: Manifest,
  batch: number,
  past: number,
  steps: number,
  threads: number,
): Promise<DecodeMeasurement> {
  const session = await ort.InferenceSession.create(graphPath, {
    intraOpNumThreads: threads,
    graphOptimizationLevel: "all",
  });
  const { heads, layers, model_dim: d } = m.gpt;
  const hd = d / heads;
  let p = past;
  let cache: Record<string, ort.Tensor> = {};
  for (let l = 0; l < layers; l++) {
    const size = batch * heads * p * hd;
    const values = Float32Array.from({ length: size }, (_, i) => Math.sin(i) * 0.5);
    cache[`past_key_${l}`] = new ort.Tensor("float32", values, [batch, heads, p, hd]);
    cache[`past_value_${l}`] = new ort.Tensor("float32", values.slice(), [batch, heads, p, hd]);
  }
  const run = async () => {
    const feeds: Record<string, ort.Tensor> = {
      ...cache,
      mel_ids: new ort.Tensor(
        "int64",
        BigInt64Array.from({ length: batch }, (_, i) => BigInt(100 + i)),
        [batch, 1],
      ),
      mel_pos: new ort.Tensor(
        "int64",
        BigInt64Array.from({ length: batch }, () => BigInt(p - 40)),
        [batch],
      ),
      attention_mask: new ort.Tensor("int64", new BigInt64Array(batch * (p + 1)).fill(1n), [batch, p + 1]),
    };
    const out = await session.run(feeds);
    cache = {};
    for (let l = 0; l < layers; l++) {
      cache[`past_key_${l}`] = out[`present_key_${l}`] as ort.Tensor;
      cache[`past_value_${l}`] = out[`present_value_${l}`] as ort.Tensor;
    }
    p += 1;
  };
  await run();
  await run();
  const start = performance.now();
  const firstPast = p;
  for (let i = 0; i < steps; i++) await run();
  const ms = (performance.now() - start) / steps;
  let flops = 0;
  for (let i = 0; i < steps; i++) flops += decodeFlopsPerRow(m, firstPast + i) * batch;
  await session.release();
  return { batch, past, msPerStep: ms, gflops: flops / steps / ms / 1e6 };
}
