/**
 * The inference port of the engine: run one graph of the model directory on a set of named tensors.
 * The onnxruntime adapter lives in ../adapters/ort-backend.ts; the engine depends only on this interface.
 */
export const GRAPH_NAMES = [
  "gpt_conditioning",
  "gpt_prefill",
  "gpt_decode",
  "gpt_latent",
  "latent_projector",
  "length_regulator",
  "dit_step",
  "vocoder",
] as const;
/** Graphs of the resident-cache decode loop (`gpu-node/tools/resident_graphs.py`); loaded when the files exist. */
export const RESIDENT_GRAPH_NAMES = [
  "gpt_decode_resident",
  "cache_gather",
  "cache_pad",
  "cache_concat",
  "cache_flush",
] as const;
export type ContractGraph = (typeof GRAPH_NAMES)[number];
export type ResidentGraph = (typeof RESIDENT_GRAPH_NAMES)[number];
export type GraphName = ContractGraph | ResidentGraph;
/** where each graph's file is: every graph of the contract, the resident-loop graphs when present */
export type GraphPaths = Record<ContractGraph, string> & Partial<Record<ResidentGraph, string>>;

export type Tensor =
  | { readonly type: "float32"; readonly data: Float32Array; readonly dims: readonly number[] }
  | { readonly type: "int64"; readonly data: BigInt64Array; readonly dims: readonly number[] }
  /** IEEE half floats as raw bits (only empty cache tensors of a float16-cache model are made on the host) */
  | { readonly type: "float16"; readonly data: Uint16Array; readonly dims: readonly number[] }
  /**
   * A tensor the backend keeps where the session put it (a session output fed back as is): the engine never reads
   * it, so on a GPU execution provider it stays on the device; `bytes` is its size, for the accounting.
   */
  | { readonly type: "resident"; readonly handle: unknown; readonly dims: readonly number[]; readonly bytes: number };

export type Feeds = Record<string, Tensor>;

/** where an output is written: the memory of the feed of that name, or that resident tensor */
export type Target = string | Tensor;

export interface GraphSignature {
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

export interface InferenceBackend {
  /**
   * Run a graph; the outputs named in `keep` come back as resident tensors. `into` maps an output to the resident
   * feed it overwrites (an output the same size as that input): a backend that can bind the output to the input's
   * memory writes it in place and returns that same tensor, so the graph copies no whole cache (CPU provider);
   * one that cannot returns a new resident tensor, as without `into`. An `into` target may also be a resident tensor
   * itself (rows of a larger one, from `rows`): the output is written there.
   */
  run(
    graph: GraphName,
    feeds: Feeds,
    keep?: readonly string[],
    into?: Readonly<Record<string, Target>>,
  ): Promise<Feeds>;
  signature(graph: GraphName): GraphSignature;
  /** free a resident tensor the engine no longer feeds (device memory on a GPU provider) */
  release?(tensor: Tensor): void;
  /**
   * Rows `start`..`start + count` (the batch axis) of a resident tensor as a resident tensor sharing its memory,
   * where the backend can (host memory, CPU provider); undefined where it cannot (device memory). Lets a cache
   * keep spare rows, as the host loop's does, so a row joining or leaving is written where it lies.
   */
  rows?(tensor: Tensor, start: number, count: number): Tensor | undefined;
  /**
   * Where resident tensors live in host memory (the CPU provider): making them and copying elements between them
   * in place. Undefined where they live in device memory. With it the resident loop's cache operations (a flush, more
   * slots, rows joining and leaving) copy what moves, where a graph call rewrites whole tensors and onnxruntime-node
   * copies every output once more (`host-cache-ops.ts`).
   */
  hostMemory?(): HostMemory | undefined;
  close(): Promise<void>;
}

/** a run of elements copied from one resident tensor to another, or within one (offsets and length in elements) */
export interface BlockCopy {
  readonly from: Tensor;
  readonly fromOffset: number;
  readonly to: Tensor;
  readonly toOffset: number;
  readonly length: number;
}

export interface HostMemory {
  /** a zero-filled resident tensor in host memory */
  alloc(type: "float32" | "float16", dims: readonly number[]): Tensor;
  /** the copies, in order (a copy within one tensor may overlap, as `copyWithin`) */
  copy(copies: readonly BlockCopy[]): void;
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
