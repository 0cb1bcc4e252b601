import type {
  BlockCopy,
  Feeds,
  GraphName,
  GraphSignature,
  HostMemory,
  InferenceBackend,
  Target,
  Tensor,
} from "./backend.ts";

/** Bytes one graph has been fed from and has returned to host memory, over all its calls and for its last call. */
export interface GraphTraffic {
  calls: number;
  /** resident tensors fed and returned (kept where the session put them: on a GPU, never across the boundary) */
  residentIn: number;
  residentOut: number;
  bytesIn: number;
  bytesOut: number;
  lastIn: number;
  lastOut: number;
}

const bytesOf = (feeds: Feeds) =>
  Object.values(feeds).reduce((n, t) => n + (t.type === "resident" ? 0 : t.data.byteLength), 0);
/**
 * The resident loop's cache operations done as copies in host memory (`host-cache-ops.ts`) are counted as one more
 * "graph": what a cache graph would have read and written of resident tensors.
 */
export type TrafficName = GraphName | "cache_host";

const residentOf = (feeds: Feeds) =>
  Object.values(feeds).reduce((n, t) => n + (t.type === "resident" ? t.bytes : 0), 0);

/**
 * The inference port with byte accounting: every tensor the engine hands a session comes from host memory and every
 * output comes back to it, so the bytes crossing the host boundary per call are the feeds' and outputs' sizes.
 * On a GPU execution provider this is the PCIe traffic per graph call (the KV cache included, while the host keeps
 * it); the engine exposes the totals in its stats, the metrics and the bench divide by generated codes.
 */
export class CountingBackend implements InferenceBackend {
  private readonly traffic = new Map<TrafficName, GraphTraffic>();

  constructor(private readonly inner: InferenceBackend) {}

  async run(
    graph: GraphName,
    feeds: Feeds,
    keep?: readonly string[],
    into?: Readonly<Record<string, Target>>,
  ): Promise<Feeds> {
    const out = await this.inner.run(graph, feeds, keep, into);
    this.count(graph, bytesOf(feeds), bytesOf(out), residentOf(feeds), residentOf(out));
    return out;
  }

  private count(name: TrafficName, bytesIn: number, bytesOut: number, residentIn: number, residentOut: number): void {
    const t = this.traffic.get(name) ?? {
      calls: 0,
      residentIn: 0,
      residentOut: 0,
      bytesIn: 0,
      bytesOut: 0,
      lastIn: 0,
      lastOut: 0,
    };
    this.traffic.set(name, {
      calls: t.calls + 1,
      residentIn: t.residentIn + residentIn,
      residentOut: t.residentOut + residentOut,
      bytesIn: t.bytesIn + bytesIn,
      bytesOut: t.bytesOut + bytesOut,
      lastIn: bytesIn,
      lastOut: bytesOut,
    });
  }

  signature(graph: GraphName): GraphSignature {
    return this.inner.signature(graph);
  }

  release(tensor: Tensor): void {
    this.inner.release?.(tensor);
  }

  rows(tensor: Tensor, start: number, count: number): Tensor | undefined {
    return this.inner.rows?.(tensor, start, count);
  }

  /** host memory's copies counted as resident traffic: bytes read from resident tensors and written into them */
  hostMemory(): HostMemory | undefined {
    const inner = this.inner.hostMemory?.();
    if (!inner) return undefined;
    return {
      alloc: (type, dims) => inner.alloc(type, dims),
      copy: (copies: readonly BlockCopy[]) => {
        inner.copy(copies);
        const bytes = copies.reduce((n, c) => n + c.length * elementBytes(c.to), 0);
        this.count("cache_host", 0, 0, bytes, bytes);
      },
    };
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** per graph, what has crossed so far */
  snapshot(): Partial<Record<TrafficName, GraphTraffic>> {
    return Object.fromEntries([...this.traffic].map(([g, t]) => [g, { ...t }]));
  }
}

function elementBytes(t: Tensor): number {
  if (t.type !== "resident") return t.data.BYTES_PER_ELEMENT;
  const elements = t.dims.reduce((n, x) => n * x, 1);
  return elements > 0 ? t.bytes / elements : 0;
}
