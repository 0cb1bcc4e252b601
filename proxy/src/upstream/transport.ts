/**
 * How the proxy talks HTTP to GPU nodes. Node wires an undici keep-alive pool per node
 * (../adapters/node/undici-transport.ts); Workers wire `fetch`. The core only sees this port.
 */
export interface UpstreamResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface TransportRequest {
  method: "GET" | "POST";
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** whole-request deadline */
  timeoutMs: number;
  signal?: AbortSignal;
  /** refuse bodies larger than this (a node answering garbage must not exhaust memory) */
  maxResponseBytes: number;
}

/**
 * Where a request failed. `connect` failures happened before any response byte, so the request is safe to retry
 * on another node; `response` failures happened after the node started answering, so it may have done the work.
 */
export type TransportFailurePhase = "connect" | "response";

export class TransportError extends Error {
  override readonly name = "TransportError";
  constructor(
    readonly phase: TransportFailurePhase,
    readonly reason: "refused" | "timeout" | "reset" | "too_large" | "aborted" | "other",
    message: string,
  ) {
    super(message);
  }
}

export interface UpstreamTransport {
  request(req: TransportRequest): Promise<UpstreamResponse>;
  close(): Promise<void>;
}
