import { errors, Pool } from "undici";
import {
  TransportError,
  type TransportRequest,
  type UpstreamResponse,
  type UpstreamTransport,
} from "../../upstream/transport.ts";

/**
 * The Node transport to GPU nodes: one undici keep-alive pool per node origin (connection reuse is most of the
 * proxy's latency budget), a whole-request deadline, and errors classified by whether any response byte arrived.
 */
export class UndiciTransport implements UpstreamTransport {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly connectionsPerNode = 64) {}

  private pool(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: this.connectionsPerNode,
        keepAliveTimeout: 30_000,
        connectTimeout: 2_000,
        pipelining: 1,
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  async request(req: TransportRequest): Promise<UpstreamResponse> {
    const url = new URL(req.url);
    const signal = req.signal
      ? AbortSignal.any([req.signal, AbortSignal.timeout(req.timeoutMs)])
      : AbortSignal.timeout(req.timeoutMs);
    let res: Awaited<ReturnType<Pool["request"]>>;
    try {
      res = await this.pool(url.origin).request({
        method: req.method,
        path: `${url.pathname}${url.search}`,
        headers: req.headers,
        ...(req.body !== undefined ? { body: req.body } : {}),
        signal,
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.timeoutMs,
      });
    } catch (e) {
      throw classify(e, "connect");
    }
    const declared = Number(res.headers["content-length"] ?? "0");
    if (declared > req.maxResponseBytes) {
      res.body.destroy();
      throw new TransportError(
        "response",
        "too_large",
        `response of ${declared} bytes exceeds ${req.maxResponseBytes}`,
      );
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body) {
        size += (chunk as Uint8Array).byteLength;
        if (size > req.maxResponseBytes) {
          res.body.destroy();
          throw new TransportError("response", "too_large", `response exceeds ${req.maxResponseBytes} bytes`);
        }
        chunks.push(chunk as Uint8Array);
      }
    } catch (e) {
      throw e instanceof TransportError ? e : classify(e, "response");
    }
    const body = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) {
      body.set(c, at);
      at += c.byteLength;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers))
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(", ") : v;
    return { status: res.statusCode, headers, body };
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
    this.pools.clear();
  }
}

function classify(e: unknown, phase: "connect" | "response"): TransportError {
  const message = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: string }).code;
  if (e instanceof errors.ConnectTimeoutError) return new TransportError("connect", "timeout", message);
  if (e instanceof errors.HeadersTimeoutError) return new TransportError("connect", "timeout", message);
  if (e instanceof errors.BodyTimeoutError) return new TransportError("response", "timeout", message);
  if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EHOSTUNREACH") {
    return new TransportError("connect", "refused", message);
  }
  if ((e as { name?: string }).name === "AbortError" || (e as { name?: string }).name === "TimeoutError") {
    return new TransportError(phase, "timeout", message);
  }
  if (code === "ECONNRESET" || code === "UND_ERR_SOCKET") return new TransportError(phase, "reset", message);
  return new TransportError(phase, "other", message);
}
