import * as ort from "onnxruntime-node";
import type {
  BlockCopy,
  Feeds,
  GraphName,
  GraphSignature,
  HostMemory,
  InferenceBackend,
  Target,
  Tensor,
} from "../engine/backend.ts";
import type { GraphMeta, TensorMeta } from "../model/graph-contract.ts";

export interface OrtOptions {
  /** threads inside one operator (onnxruntime intra-op pool) */
  intraOpThreads: number;
  /** threads across independent operators */
  interOpThreads: number;
  /**
   * Whether idle intra-op threads spin waiting for work. Spinning speeds up back-to-back calls of one session, but
   * the node alternates between seven sessions, each with its own pool: a pool that spins after its call takes the
   * cores from the next session's call (measured on 2 cores: a DiT step after a decode step 36 → 65 ms).
   */
  intraOpSpinning: boolean;
  /** e.g. ["cpu"] or ["cuda", "cpu"] */
  executionProviders: string[];
  /**
   * onnxruntime's CPU arena: it grows to the largest working set ever run and never shrinks, so one long request
   * left a node at gigabytes for good (issue 14 #1). Off by default: activations go back to the allocator after
   * each run (and large ones to the OS). On: faster buffer reuse, memory kept.
   */
  cpuMemArena?: boolean;
}

/** onnxruntime-node implementation of the InferenceBackend port: one session per graph of the model directory. */
export class OrtBackend implements InferenceBackend {
  private constructor(
    private readonly sessions: Map<GraphName, ort.InferenceSession>,
    /** resident outputs stay in device memory (WebGPU `gpu-buffer`) */
    private readonly deviceResident: boolean,
  ) {}

  static async create(graphPaths: Partial<Record<GraphName, string>>, options: OrtOptions): Promise<OrtBackend> {
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: options.intraOpThreads,
      interOpNumThreads: options.interOpThreads,
      executionProviders: options.executionProviders,
      graphOptimizationLevel: "all",
      enableCpuMemArena: options.cpuMemArena ?? false,
      extra: { session: { intra_op: { allow_spinning: options.intraOpSpinning ? "1" : "0" } } },
    };
    const sessions = new Map<GraphName, ort.InferenceSession>();
    for (const [name, path] of Object.entries(graphPaths) as [GraphName, string][]) {
      let session = await ort.InferenceSession.create(path, sessionOptions);
      const resident = session.outputNames.filter((n) => /^(present|out|tail_out)_(key|value)_\d+$/.test(n));
      if (options.executionProviders.includes("webgpu") && resident.length > 0) {
        // the KV cache stays in device memory and is fed back from there (issue 13; gpu-node/MODEL.md)
        await session.release();
        const preferredOutputLocation = Object.fromEntries(resident.map((n) => [n, "gpu-buffer" as const]));
        session = await ort.InferenceSession.create(path, { ...sessionOptions, preferredOutputLocation });
      }
      sessions.set(name, session);
    }
    return new OrtBackend(sessions, options.executionProviders.includes("webgpu"));
  }

  private session(graph: GraphName): ort.InferenceSession {
    const s = this.sessions.get(graph);
    if (!s) throw new Error(`no session for graph ${graph}`);
    return s;
  }

  signature(graph: GraphName): GraphSignature {
    const s = this.session(graph);
    return { inputs: [...s.inputNames], outputs: [...s.outputNames] };
  }

  /** the graph file's declared inputs and outputs (names, element types, shapes) */
  metadata(graph: GraphName): GraphMeta {
    const s = this.session(graph);
    const meta = (list: readonly ort.InferenceSession.ValueMetadata[]): TensorMeta[] =>
      list.map((t) =>
        t.isTensor ? { name: t.name, type: t.type, shape: t.shape } : { name: t.name, type: "non-tensor", shape: [] },
      );
    return { inputs: meta(s.inputMetadata), outputs: meta(s.outputMetadata) };
  }

  release(tensor: Tensor): void {
    if (tensor.type === "resident") (tensor.handle as ort.Tensor).dispose();
  }

  /** rows of a host-memory resident tensor: a tensor over a view of its array (no copy) */
  rows(tensor: Tensor, start: number, count: number): Tensor | undefined {
    if (tensor.type !== "resident") return undefined;
    const t = tensor.handle as ort.Tensor;
    if (t.location !== "cpu" || (t.type !== "float32" && t.type !== "float16")) return undefined;
    const per = t.dims.slice(1).reduce((n, x) => n * x, 1);
    const data = (t.data as Float32Array | Uint16Array).subarray(start * per, (start + count) * per);
    const dims = [count, ...t.dims.slice(1)];
    return { type: "resident", handle: new ort.Tensor(t.type, data, dims), dims, bytes: data.byteLength };
  }

  /** resident tensors in host memory: onnxruntime-node's CPU tensors over typed arrays (not with WebGPU's gpu-buffers) */
  hostMemory(): HostMemory | undefined {
    return this.deviceResident ? undefined : HOST_MEMORY;
  }

  /** whether the model directory had this graph */
  has(graph: GraphName): boolean {
    return this.sessions.has(graph);
  }

  async run(
    graph: GraphName,
    feeds: Feeds,
    keep: readonly string[] = [],
    into: Readonly<Record<string, Target>> = {},
  ): Promise<Feeds> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      ortFeeds[name] = t.type === "resident" ? (t.handle as ort.Tensor) : new ort.Tensor(t.type, t.data, t.dims);
    }
    const session = this.session(graph);
    // outputs written into their input's memory: onnxruntime writes a pre-allocated output where it lies, and its
    // Scatter kernels skip the copy of the input when input and output are one buffer. Only host-memory tensors:
    // onnxruntime-node binds pre-allocated outputs as CPU memory.
    const bound: Record<string, Tensor> = {};
    const fetches: Record<string, ort.Tensor | null> = {};
    for (const name of session.outputNames) {
      const target = into[name];
      const source = typeof target === "string" ? feeds[target] : target;
      const handle = source?.type === "resident" ? (source.handle as ort.Tensor) : undefined;
      if (source && handle?.location === "cpu") {
        bound[name] = source;
        fetches[name] = handle;
      } else fetches[name] = null;
    }
    const result = await session.run(ortFeeds, fetches);
    const out: Record<string, Tensor> = { ...bound };
    for (const [name, t] of Object.entries(result)) {
      // onnxruntime-node 1.30 returns a bound output once more, copied into a new array buffer: dropped
      if (bound[name]) continue;
      if (keep.includes(name)) {
        // fed back as is; with `preferredOutputLocation: 'gpu-buffer'` (WebGPU EP) it never leaves the device
        const bytes = t.dims.reduce((n, x) => n * x, 1) * (t.type === "float16" ? 2 : t.type === "int64" ? 8 : 4);
        out[name] = { type: "resident", handle: t, dims: t.dims, bytes };
      } else if (t.type === "float32") out[name] = { type: "float32", data: t.data as Float32Array, dims: t.dims };
      else if (t.type === "int64") out[name] = { type: "int64", data: t.data as BigInt64Array, dims: t.dims };
      else throw new Error(`graph ${graph} output ${name} has unsupported type ${t.type}`);
    }
    return out;
  }

  async close(): Promise<void> {
    for (const s of this.sessions.values()) await s.release();
    this.sessions.clear();
  }
}

/** the elements of a resident CPU tensor */
function hostData(tensor: Tensor): Float32Array | Uint16Array {
  const t = tensor.type === "resident" ? (tensor.handle as ort.Tensor) : undefined;
  if (t?.location !== "cpu" || (t.type !== "float32" && t.type !== "float16"))
    throw new Error("host memory: not a resident float tensor in host memory");
  return t.data as Float32Array | Uint16Array;
}

const HOST_MEMORY: HostMemory = {
  alloc(type, dims) {
    const n = dims.reduce((a, x) => a * x, 1);
    const data = type === "float16" ? new Uint16Array(n) : new Float32Array(n);
    return { type: "resident", handle: new ort.Tensor(type, data, dims), dims, bytes: data.byteLength };
  },
  copy(copies: readonly BlockCopy[]) {
    for (const c of copies) {
      const to = hostData(c.to);
      if (c.from === c.to) to.copyWithin(c.toOffset, c.fromOffset, c.fromOffset + c.length);
      else to.set(hostData(c.from).subarray(c.fromOffset, c.fromOffset + c.length), c.toOffset);
    }
  },
};
