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

/** An answer read as it arrives (a node's streamed segments): headers first, then the body chunk by chunk. */
export interface StreamedUpstreamResponse {
  status: number;
  headers: Record<string, string>;
  /** throws a `TransportError` (phase "response") when the answer is cut, too large, late or aborted */
  body: AsyncIterable<Uint8Array>;
}

export interface UpstreamTransport {
  request(req: TransportRequest): Promise<UpstreamResponse>;
  /**
   * Resolves at the answer's headers; `timeoutMs`, `signal` and `maxResponseBytes` hold until the body's end.
   * Optional: a transport without it hands whole answers only, and streamed speech then goes piece by piece.
   */
  stream?(req: TransportRequest): Promise<StreamedUpstreamResponse>;
  close(): Promise<void>;
}
