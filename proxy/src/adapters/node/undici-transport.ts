import { type Dispatcher, errors, Pool } from "undici";
import {
  type StreamedUpstreamResponse,
  TransportError,
  type TransportRequest,
  type UpstreamResponse,
  type UpstreamTransport,
} from "../../upstream/transport.ts";

/**
 * The Node transport to GPU nodes: one undici keep-alive pool per node origin (connection reuse is most of the
 * proxy's latency budget), a whole-request deadline, and errors classified by whether any response byte arrived.
 *
 * It drives undici's `dispatch` with its own handler rather than `request()`: the answer is a whole WAV the proxy
 * must measure before relaying, so there is nothing to stream, and a handler that collects chunks skips the body
 * stream, its promises and per-request abort-signal plumbing (about half of undici's per-request cost here).
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

  request(req: TransportRequest): Promise<UpstreamResponse> {
    const url = new URL(req.url);
    return new Promise<UpstreamResponse>((resolve, reject) => {
      let controller: Dispatcher.DispatchController | null = null;
      /** why we aborted (deadline, client gone, body too large), applied as soon as there is a controller */
      let abortReason: TransportError | null = null;
      let responded = false;
      let status = 0;
      const headers: Record<string, string> = {};
      const chunks: Buffer[] = [];
      let size = 0;
      let settled = false;

      const finish = (error: TransportError | null, response?: UpstreamResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.signal?.removeEventListener("abort", onClientAbort);
        if (error) reject(error);
        else resolve(response as UpstreamResponse);
      };
      const abort = (reason: TransportError) => {
        abortReason ??= reason;
        if (controller && !controller.aborted) controller.abort(reason);
        else if (!controller) finish(reason); // not started yet: undici will see the abort in onRequestStart
      };
      // One timer for the whole-request deadline (AbortSignal.timeout + AbortSignal.any cost ~100 µs per request on
      // Node 20 and keep every timer alive for the full timeout).
      const timer = setTimeout(() => {
        abort(
          new TransportError(
            responded ? "response" : "connect",
            "timeout",
            `no complete answer within ${req.timeoutMs} ms`,
          ),
        );
      }, req.timeoutMs);
      const onClientAbort = () =>
        abort(new TransportError(responded ? "response" : "connect", "aborted", "the client went away"));
      if (req.signal?.aborted) {
        onClientAbort();
        return;
      }
      req.signal?.addEventListener("abort", onClientAbort, { once: true });

      /** Stops reading an answer we refuse; the error reaches onResponseError as `abortReason`. */
      const refuse = (ctrl: Dispatcher.DispatchController, message: string) => {
        abortReason ??= new TransportError("response", "too_large", message);
        ctrl.abort(abortReason);
      };
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart(ctrl) {
          controller = ctrl;
          if (abortReason) ctrl.abort(abortReason);
        },
        onResponseStart(ctrl, statusCode, responseHeaders) {
          if (statusCode < 200) return; // 1xx: the real answer follows
          responded = true;
          status = statusCode;
          for (const name in responseHeaders) {
            const v = responseHeaders[name];
            if (v !== undefined) headers[name] = Array.isArray(v) ? v.join(", ") : v;
          }
          const declared = Number(headers["content-length"]);
          if (declared > req.maxResponseBytes) {
            refuse(ctrl, `response of ${declared} bytes exceeds ${req.maxResponseBytes}`);
          }
        },
        onResponseData(ctrl, chunk) {
          size += chunk.byteLength;
          if (size > req.maxResponseBytes) {
            refuse(ctrl, `response exceeds ${req.maxResponseBytes} bytes`);
            return;
          }
          chunks.push(chunk);
        },
        onResponseEnd() {
          const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
          finish(null, { status, headers, body });
        },
        onResponseError(_ctrl, error) {
          finish(abortReason ?? classify(error, responded ? "response" : "connect"));
        },
      };
      try {
        this.pool(url.origin).dispatch(
          {
            method: req.method,
            path: `${url.pathname}${url.search}`,
            headers: req.headers,
            ...(req.body !== undefined ? { body: req.body } : {}),
            headersTimeout: req.timeoutMs,
            bodyTimeout: req.timeoutMs,
          },
          handler,
        );
      } catch (error) {
        finish(classify(error, "connect"));
      }
    });
  }

  /** A node's streamed answer: undici's `request` (its body a stream), the same deadline and abort rules. */
  async stream(req: TransportRequest): Promise<StreamedUpstreamResponse> {
    const url = new URL(req.url);
    const abort = new AbortController();
    let responded = false;
    let why: TransportError | null = null;
    const stop = (reason: TransportError) => {
      why ??= reason;
      abort.abort(why);
    };
    const timer = setTimeout(
      () =>
        stop(
          new TransportError(
            responded ? "response" : "connect",
            "timeout",
            `no complete answer within ${req.timeoutMs} ms`,
          ),
        ),
      req.timeoutMs,
    );
    const onClientAbort = () =>
      stop(new TransportError(responded ? "response" : "connect", "aborted", "the client went away"));
    const done = () => {
      clearTimeout(timer);
      req.signal?.removeEventListener("abort", onClientAbort);
    };
    if (req.signal?.aborted) onClientAbort();
    else req.signal?.addEventListener("abort", onClientAbort, { once: true });
    let answer: Dispatcher.ResponseData;
    try {
      answer = await this.pool(url.origin).request({
        method: req.method,
        path: `${url.pathname}${url.search}`,
        headers: req.headers,
        ...(req.body !== undefined ? { body: req.body } : {}),
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.timeoutMs,
        signal: abort.signal,
      });
    } catch (error) {
      done();
      throw why ?? classify(error, "connect");
    }
    responded = true;
    const headers: Record<string, string> = {};
    for (const name in answer.headers) {
      const v = answer.headers[name];
      if (v !== undefined) headers[name] = Array.isArray(v) ? v.join(", ") : v;
    }
    const source = answer.body;
    async function* body(): AsyncGenerator<Uint8Array> {
      let size = 0;
      try {
        for await (const chunk of source) {
          const bytes = chunk as Buffer;
          size += bytes.byteLength;
          if (size > req.maxResponseBytes) {
            throw new TransportError("response", "too_large", `response exceeds ${req.maxResponseBytes} bytes`);
          }
          yield bytes;
        }
      } catch (error) {
        throw why ?? classify(error, "response");
      } finally {
        done();
        // a reader that stops early (the client left) must not leave the connection half-read
        if (!source.destroyed) source.destroy();
      }
    }
    return { status: answer.statusCode, headers, body: body() };
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
    this.pools.clear();
  }
}

function classify(e: unknown, phase: "connect" | "response"): TransportError {
  if (e instanceof TransportError) return e;
  const message = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: string }).code;
  if (e instanceof errors.ConnectTimeoutError) return new TransportError("connect", "timeout", message);
  if (e instanceof errors.HeadersTimeoutError) return new TransportError("connect", "timeout", message);
  if (e instanceof errors.BodyTimeoutError) return new TransportError("response", "timeout", message);
  if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EHOSTUNREACH") {
    return new TransportError("connect", "refused", message);
  }
  if (e instanceof errors.RequestAbortedError || (e as { name?: string }).name === "AbortError") {
    return new TransportError(phase, "aborted", message);
  }
  if (code === "ECONNRESET" || code === "UND_ERR_SOCKET") return new TransportError(phase, "reset", message);
  return new TransportError(phase, "other", message);
}
