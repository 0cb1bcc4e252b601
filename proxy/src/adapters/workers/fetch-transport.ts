import {
  type StreamedUpstreamResponse,
  TransportError,
  type TransportRequest,
  type UpstreamResponse,
  type UpstreamTransport,
} from "../../upstream/transport.ts";

type Fetch = (input: string, init: RequestInit) => Promise<Response>;

/**
 * The transport to GPU nodes on Workers: `fetch` (the runtime pools connections itself), a whole-request deadline,
 * a response size cap enforced while reading, and failures classified by whether the response had started.
 */
export class FetchTransport implements UpstreamTransport {
  constructor(private readonly fetcher: Fetch = (input, init) => fetch(input, init)) {}

  async request(req: TransportRequest): Promise<UpstreamResponse> {
    const { res, deadline } = await this.open(req);
    const declared = Number(res.headers.get("content-length") ?? "0");
    if (declared > req.maxResponseBytes) {
      await res.body?.cancel();
      throw new TransportError(
        "response",
        "too_large",
        `response of ${declared} bytes exceeds ${req.maxResponseBytes}`,
      );
    }
    const body = await readCapped(res, req.maxResponseBytes).catch((e: unknown) => {
      throw e instanceof TransportError ? e : classify(e, "response", deadline);
    });
    const headers = headersOf(res);
    return { status: res.status, headers, body };
  }

  /** A node's streamed answer (its segments): resolves at the headers, the body read chunk by chunk, capped. */
  async stream(req: TransportRequest): Promise<StreamedUpstreamResponse> {
    const { res, deadline } = await this.open(req);
    const headers = headersOf(res);
    const source = res.body;
    async function* body(): AsyncGenerator<Uint8Array> {
      if (!source) return;
      const reader = source.getReader();
      let size = 0;
      let finished = false;
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          size += value.byteLength;
          if (size > req.maxResponseBytes) {
            throw new TransportError("response", "too_large", `response exceeds ${req.maxResponseBytes} bytes`);
          }
          yield value;
        }
        finished = true;
      } catch (e) {
        throw e instanceof TransportError ? e : classify(e, "response", deadline);
      } finally {
        // a reader that stops early (the client left, a bad frame) lets the node see the connection go
        if (!finished) await reader.cancel().catch(() => {});
      }
    }
    return { status: res.status, headers, body: body() };
  }

  async close(): Promise<void> {}

  /** Sends the request under the whole-request deadline (and the caller's signal); a failure before any answer is "connect". */
  private async open(req: TransportRequest): Promise<{ res: Response; deadline: AbortSignal }> {
    const deadline = AbortSignal.timeout(req.timeoutMs);
    const signal = req.signal ? AbortSignal.any([req.signal, deadline]) : deadline;
    try {
      const res = await this.fetcher(req.url, {
        method: req.method,
        headers: req.headers,
        ...(req.body !== undefined ? { body: req.body } : {}),
        signal,
      });
      return { res, deadline };
    } catch (e) {
      throw classify(e, "connect", deadline);
    }
  }
}

function headersOf(res: Response): Record<string, string> {
  const headers: Record<string, string> = {};
  res.headers.forEach((value, key) => {
    headers[key] = value;
  });
  return headers;
}

async function readCapped(res: Response, max: number): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw new TransportError("response", "too_large", `response exceeds ${max} bytes`);
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    body.set(c, at);
    at += c.byteLength;
  }
  return body;
}

function classify(e: unknown, phase: "connect" | "response", deadline: AbortSignal): TransportError {
  const message = e instanceof Error ? e.message : String(e);
  if (deadline.aborted) return new TransportError(phase, "timeout", message);
  if ((e as { name?: string }).name === "AbortError") return new TransportError(phase, "aborted", message);
  // fetch does not say why a connection failed; before any response byte it is "refused" for the retry logic.
  return new TransportError(phase, phase === "connect" ? "refused" : "reset", message);
}
