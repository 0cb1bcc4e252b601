/**
 * The inference port of the engine: run one graph of the model directory on a set of named tensors.
 * The onnxruntime adapter lives in ../adapters/ort-backend.ts; the engine depends only on this interface.
 */
export const GRAPH_NAMES = [
  "gpt_conditioning",
  "gpt_prefill",
  "gpt_decode",
  "latent_projector",
  "length_regulator",
  "dit_step",
  "vocoder",
] as const;
export type GraphName = (typeof GRAPH_NAMES)[number];

export type Tensor =
  | { readonly type: "float32"; readonly data: Float32Array; readonly dims: readonly number[] }
  | { readonly type: "int64"; readonly data: BigInt64Array; readonly dims: readonly number[] };

export type Feeds = Record<string, Tensor>;

export interface GraphSignature {
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

export interface InferenceBackend {
  run(graph: GraphName, feeds: Feeds): Promise<Feeds>;
  signature(graph: GraphName): GraphSignature;
  close(): Promise<void>;
}

export const f32 = (data: Float32Array, dims: readonly number[]): Tensor => ({ type: "float32", data, dims });
export const i64 = (values: ArrayLike<number> | BigInt64Array, dims: readonly number[]): Tensor => ({
  type: "int64",
  data: values instanceof BigInt64Array ? values : BigInt64Array.from(Array.from(values, (v) => BigInt(v))),
  dims,
});

export function output(outputs: Feeds, name: string): Tensor {
  const t = outputs[name];
  if (!t) throw new Error(`graph output ${name} missing`);
  return t;
}

export function floatOutput(outputs: Feeds, name: string): Float32Array {
  const t = output(outputs, name);
  if (t.type !== "float32") throw new Error(`graph output ${name} is ${t.type}, expected float32`);
  return t.data;
}
