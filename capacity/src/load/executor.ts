/**
 * Sends one request and times it: when it was meant to go (`intendedAt`), when it went, when the response head
 * arrived (TTFB) and when the last body byte arrived. Built on undici's `Client.dispatch` with a bare handler (no
 * streams, no promise per request) so the generator costs little CPU per request.
 */
import { Client, type Dispatcher } from "undici";
import type { Payload } from "../payloads/profiles.ts";

export interface Sample {
  payload: Payload;
  /** performance.now() ms: the time the schedule meant the request to be sent (= sentAt in the closed model) */
  intendedAt: number;
  sentAt: number;
  /** response head received (NaN when none) */
  headersAt: number;
  endAt: number;
  /** 0 when no response came (connection error, timeout) */
  status: number;
  /** null for a complete 200; else why it failed: "http_503", "timeout", "ECONNREFUSED", "short_body", ... */
  error: string | null;
  bytes: number;
  /** audio the response carries (X-Audio-Duration-Ms), 0 unless 200 */
  audioMs: number;
  /** billable tokens: X-Tokens (the proxy meters them), else 50 per audio second as the proxy would */
  tokens: number;
}

export interface ExecutorOptions {
  origin: string;
  path: string;
  headers: Record<string, string>;
  connections: number;
  timeoutMs: number;
}

function errorName(e: unknown): string {
  const code = (e as { code?: string }).code;
  if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") return "timeout";
  if (code?.startsWith("UND_ERR_")) return code.slice("UND_ERR_".length).toLowerCase();
  return code ?? (e as Error).name ?? "error";
}

/** A header name as lower-case bytes, for comparing with undici's raw names without decoding them. */
const name = (n: string) => Buffer.from(n, "latin1");
const CONTENT_LENGTH = name("content-length");
const AUDIO_MS = name("x-audio-duration-ms");
const TOKENS = name("x-tokens");

/** Case-insensitive equality of a raw header name with a lower-case one (ASCII letters folded). */
function sameName(raw: Buffer, lower: Buffer): boolean {
  if (raw.length !== lower.length) return false;
  for (let i = 0; i < raw.length; i++) if (((raw[i] as number) | 0x20) !== lower[i]) return false;
  return true;
}

/** The value of a response header from undici's raw [name, value, name, value, ...] list. */
function rawHeader(raw: Buffer[], lower: Buffer): string | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (sameName(raw[i] as Buffer, lower)) return (raw[i + 1] as Buffer).toString("latin1");
  }
  return undefined;
}

/**
 * The undici handler of one request: a class, so each request allocates one small object and no closures. It uses
 * undici's raw handler callbacks (onHeaders with the raw header list), which undici 7 still drives directly: the
 * newer onResponse* callbacks go through a wrapper that parses every header into an object first, which costs more
 * than the request's own bookkeeping, and only three headers are needed here.
 */
class Exchange {
  private expected = -1;
  private finished = false;

  constructor(
    private readonly s: Sample,
    private readonly done: (s: Sample) => void,
    private readonly executor: HttpExecutor,
    private readonly slot: number,
  ) {}

  onConnect(): void {}

  onHeaders(statusCode: number, raw: Buffer[]): boolean {
    const s = this.s;
    s.headersAt = performance.now();
    s.status = statusCode;
    const length = rawHeader(raw, CONTENT_LENGTH);
    if (length !== undefined) this.expected = Number(length);
    if (statusCode === 200) {
      s.audioMs = Number(rawHeader(raw, AUDIO_MS) ?? 0) || 0;
      const tokens = rawHeader(raw, TOKENS);
      // the proxy's metering when it says so, else the same rule: 50 tokens per audio second, rounded half up
      s.tokens =
        tokens !== undefined && Number(tokens) >= 0 ? Number(tokens) : Math.floor((s.audioMs * 50) / 1000 + 0.5);
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.s.bytes += chunk.byteLength;
    return true;
  }

  onComplete(): void {
    const s = this.s;
    if (s.status !== 200) this.finish(`http_${s.status}`);
    else if (this.expected >= 0 && s.bytes !== this.expected) this.finish("short_body");
    else this.finish(null);
  }

  onError(err: Error): void {
    this.finish(errorName(err));
  }

  finish(error: string | null): void {
    if (this.finished) return;
    this.finished = true;
    this.s.endAt = performance.now();
    this.s.error = error;
    this.executor.release(this.slot);
    this.done(this.s);
  }
}

/**
 * Requests go over `connections` keep-alive connections (one undici Client each, one request at a time). A request
 * takes an idle connection when there is one, so light load keeps few sockets; when all are busy (the open model
 * can have more in flight than connections), it queues on the next connection in turn. Doing this here rather than
 * through undici's Pool spares a scan of the pool and a 'drain' event per request.
 */
export class HttpExecutor {
  private readonly clients: Client[] = [];
  private readonly outstanding: Int32Array;
  private readonly idle: number[] = [];
  private next = 0;
  private readonly headers: Record<string, string>;
  /** request bodies as bytes, encoded once per payload */
  private readonly bodies = new Map<string, Buffer>();

  constructor(private readonly options: ExecutorOptions) {
    const n = Math.max(1, options.connections);
    for (let i = 0; i < n; i++) {
      this.clients.push(
        new Client(options.origin, { pipelining: 1, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000 }),
      );
    }
    this.outstanding = new Int32Array(n);
    for (let i = n - 1; i >= 0; i--) this.idle.push(i);
    this.headers = { "content-type": "application/json", ...options.headers };
  }

  send(payload: Payload, intendedAt: number, done: (s: Sample) => void): void {
    const s: Sample = {
      payload,
      intendedAt,
      sentAt: performance.now(),
      headersAt: Number.NaN,
      endAt: 0,
      status: 0,
      error: null,
      bytes: 0,
      audioMs: 0,
      tokens: 0,
    };
    let body = this.bodies.get(payload.body);
    if (!body) {
      body = Buffer.from(payload.body);
      this.bodies.set(payload.body, body);
    }
    let i = this.idle.pop();
    if (i === undefined) {
      i = this.next;
      this.next = (this.next + 1) % this.clients.length;
    }
    const slot = i;
    this.outstanding[slot] = (this.outstanding[slot] ?? 0) + 1;
    const exchange = new Exchange(s, done, this, slot);
    try {
      (this.clients[slot] as Client).dispatch(
        {
          method: "POST",
          path: this.options.path,
          headers: this.headers,
          body,
          headersTimeout: this.options.timeoutMs,
          bodyTimeout: this.options.timeoutMs,
        },
        exchange as unknown as Dispatcher.DispatchHandler,
      );
    } catch (e) {
      // never call back synchronously: a closed-model user would loop on the stack
      setImmediate(() => exchange.finish(errorName(e)));
    }
  }

  /** A request on connection `slot` finished. */
  release(slot: number): void {
    const left = (this.outstanding[slot] ?? 1) - 1;
    this.outstanding[slot] = left;
    if (left === 0) this.idle.push(slot);
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close()));
  }
}
