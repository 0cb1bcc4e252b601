import * as ort from "onnxruntime-node";
import type { Manifest } from "../src/model/manifest.ts";
import { matmulModel } from "./onnx-matmul.ts";

export interface Timing {
  /** fastest single call */
  bestMs: number;
  medianMs: number;
}

export function timing(times: number[]): Timing {
  const sorted = times.toSorted((a, b) => a - b);
  return { bestMs: sorted[0] ?? Number.NaN, medianMs: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN };
}

export interface PeakMeasurement {
  size: number;
  /** FLOP/s of the fastest call and of the median call, at the size where the fastest call was fastest */
  gflops: number;
  gflopsMedian: number;
  ms: number;
}

const PROBE_BLOCK = 5;

/** One square float32 MatMul of size n in onnxruntime, timed call by call. */
export class MatmulProbe {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly size: number,
    private readonly feeds: Record<string, ort.Tensor>,
  ) {}

  static async create(threads: number, n: number): Promise<MatmulProbe> {
    const session = await ort.InferenceSession.create(matmulModel(), { intraOpNumThreads: threads });
    const tensor = (mod: number) =>
      new ort.Tensor(
        "float32",
        Float32Array.from({ length: n * n }, (_, i) => (i % mod) * 0.1),
        [n, n],
      );
    const probe = new MatmulProbe(session, n, { A: tensor(7), B: tensor(5) });
    await probe.call(); // warm-up
    return probe;
  }

  /** milliseconds of one call */
  async call(): Promise<number> {
    const t = performance.now();
    await this.session.run(this.feeds);
    return performance.now() - t;
  }

  gflops(ms: number): number {
    return (2 * this.size ** 3) / ms / 1e6;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/**
 * The FLOP/s onnxruntime reaches on a plain square float32 MatMul on this machine (the roofline the decode is held
 * to): every size is timed call by call; the peak is the best size's fastest call (its median is reported too).
 */
export async function measureMatmulPeak(threads: number): Promise<PeakMeasurement> {
  let best: PeakMeasurement = { gflops: 0, gflopsMedian: 0, size: 0, ms: 0 };
  for (const n of [512, 1024, 1536, 2048]) {
    const probe = await MatmulProbe.create(threads, n);
    const reps = Math.max(5, Math.round(2e10 / (2 * n ** 3)));
    const times: number[] = [];
    for (let i = 0; i < reps; i++) times.push(await probe.call());
    await probe.release();
    const { bestMs, medianMs } = timing(times);
    if (probe.gflops(bestMs) > best.gflops)
      best = { gflops: probe.gflops(bestMs), gflopsMedian: probe.gflops(medianMs), size: n, ms: bestMs };
  }
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
  /** median step */
  msPerStep: number;
  /** fastest step */
  msPerStepBest: number;
  /** FLOP/s of the median step and of the fastest step */
  gflops: number;
  gflopsBest: number;
  /** the MatMul probe's FLOP/s over calls interleaved with these steps (fastest, median), when a probe was given */
  probe?: { size: number; gflopsBest: number; gflopsMedian: number };
}

/**
 * Time decode steps at a given batch size over a host-side cache of `capacity` slots (what the engine passes: the
 * same buffers every step, new keys/values written in place), with every row's history `past` slots long.
 */
export async function measureDecode(
  graphPath: string,
  m: Manifest,
  batch: number,
  past: number,
  steps: number,
  threads: number,
  /** timed in a block right before and right after the steps, so decode and peak see the same machine load */
  probe?: MatmulProbe,
): Promise<DecodeMeasurement> {
  const session = await ort.InferenceSession.create(graphPath, {
    intraOpNumThreads: threads,
    graphOptimizationLevel: "all",
  });
  const { heads, layers, model_dim: d } = m.gpt;
  const hd = d / heads;
  const capacity = Math.ceil((past + steps + 1) / 32) * 32;
  const feeds: Record<string, ort.Tensor> = {};
  const keys: Float32Array[] = [];
  const values: Float32Array[] = [];
  for (let l = 0; l < layers; l++) {
    const k = Float32Array.from({ length: batch * heads * capacity * hd }, (_, i) => Math.sin(i) * 0.5);
    const v = k.map((x) => x * 0.5);
    keys.push(k);
    values.push(v);
    feeds[`past_key_${l}`] = new ort.Tensor("float32", k, [batch, heads, capacity, hd]);
    feeds[`past_value_${l}`] = new ort.Tensor("float32", v, [batch, heads, capacity, hd]);
  }
  let length = past;
  const run = async () => {
    const mask = new BigInt64Array(batch * (capacity + 1));
    for (let b = 0; b < batch; b++) {
      mask.fill(1n, b * (capacity + 1), b * (capacity + 1) + length);
      mask[b * (capacity + 1) + capacity] = 1n;
    }
    const out = await session.run({
      ...feeds,
      mel_ids: new ort.Tensor(
        "int64",
        BigInt64Array.from({ length: batch }, (_, i) => BigInt(100 + i)),
        [batch, 1],
      ),
      mel_pos: new ort.Tensor(
        "int64",
        BigInt64Array.from({ length: batch }, () => BigInt(length - 40)),
        [batch],
      ),
      attention_mask: new ort.Tensor("int64", mask, [batch, capacity + 1]),
    });
    // append in place, as the engine does
    for (let l = 0; l < layers; l++) {
      const nk = out[`new_key_${l}`]?.data as Float32Array;
      const nv = out[`new_value_${l}`]?.data as Float32Array;
      for (let r = 0; r < batch * heads; r++) {
        keys[l]?.set(nk.subarray(r * hd, (r + 1) * hd), (r * capacity + length) * hd);
        values[l]?.set(nv.subarray(r * hd, (r + 1) * hd), (r * capacity + length) * hd);
      }
    }
    length += 1;
  };
  await run();
  const times: number[] = [];
  const probeTimes: number[] = [];
  // The probe runs in blocks before and after the steps, not between them: two sessions alternating call by call
  // slow each other down (each one's idle pool spins on the cores the other needs).
  const probeBlock = async () => {
    for (let i = 0; probe && i < PROBE_BLOCK; i++) probeTimes.push(await probe.call());
  };
  await probeBlock();
  for (let i = 0; i < steps; i++) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  await probeBlock();
  const { bestMs, medianMs } = timing(times);
  const probed = probe ? timing(probeTimes) : null;
  // the graph attends over the whole capacity (masked slots included): count what it computes
  const flops = decodeFlopsPerRow(m, capacity) * batch;
  await session.release();
  return {
    batch,
    past,
    msPerStep: medianMs,
    msPerStepBest: bestMs,
    gflops: flops / medianMs / 1e6,
    gflopsBest: flops / bestMs / 1e6,
    ...(probe && probed
      ? {
          probe: {
            size: probe.size,
            gflopsBest: probe.gflops(probed.bestMs),
            gflopsMedian: probe.gflops(probed.medianMs),
          },
        }
      : {}),
  };
}
