import type { Feeds, GraphName, GraphSignature, InferenceBackend, Target, Tensor } from "./backend.ts";

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
const residentOf = (feeds: Feeds) =>
  Object.values(feeds).reduce((n, t) => n + (t.type === "resident" ? t.bytes : 0), 0);

/**
 * The inference port with byte accounting: every tensor the engine hands a session comes from host memory and every
 * output comes back to it, so the bytes crossing the host boundary per call are the feeds' and outputs' sizes.
 * On a GPU execution provider this is the PCIe traffic per graph call (the KV cache included, while the host keeps
 * it); the engine exposes the totals in its stats, the metrics and the bench divide by generated codes.
 */
export class CountingBackend implements InferenceBackend {
  private readonly traffic = new Map<GraphName, GraphTraffic>();

  constructor(private readonly inner: InferenceBackend) {}

  async run(
    graph: GraphName,
    feeds: Feeds,
    keep?: readonly string[],
    into?: Readonly<Record<string, Target>>,
  ): Promise<Feeds> {
    const bytesIn = bytesOf(feeds);
    const out = await this.inner.run(graph, feeds, keep, into);
    const bytesOut = bytesOf(out);
    const t = this.traffic.get(graph) ?? {
      calls: 0,
      residentIn: 0,
      residentOut: 0,
      bytesIn: 0,
      bytesOut: 0,
      lastIn: 0,
      lastOut: 0,
    };
    this.traffic.set(graph, {
      calls: t.calls + 1,
      residentIn: t.residentIn + residentOf(feeds),
      residentOut: t.residentOut + residentOf(out),
      bytesIn: t.bytesIn + bytesIn,
      bytesOut: t.bytesOut + bytesOut,
      lastIn: bytesIn,
      lastOut: bytesOut,
    });
    return out;
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

  close(): Promise<void> {
    return this.inner.close();
  }

  /** per graph, what has crossed so far */
  snapshot(): Partial<Record<GraphName, GraphTraffic>> {
    return Object.fromEntries([...this.traffic].map(([g, t]) => [g, { ...t }]));
  }
}
