/**
 * Sends one request and times it: when it was meant to go (`intendedAt`), when it went, when the response head
 * arrived (TTFB) and when the last body byte arrived. Built on undici's `Pool.dispatch` with a bare handler (no
 * streams, no promise per request) so the generator costs little CPU per request.
 */

import type { Dispatcher } from "undici";
import { Pool } from "undici";
import { tokensFromAudioMs } from "../../../billing/src/rating/rate.ts";
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

const header = (h: Record<string, string | string[] | undefined>, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

function errorName(e: unknown): string {
  const code = (e as { code?: string }).code;
  if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") return "timeout";
  if (code?.startsWith("UND_ERR_")) return code.slice("UND_ERR_".length).toLowerCase();
  return code ?? (e as Error).name ?? "error";
}

export class HttpExecutor {
  private readonly pool: Pool;
  private readonly headers: Record<string, string>;

  constructor(private readonly options: ExecutorOptions) {
    this.pool = new Pool(options.origin, {
      connections: options.connections,
      pipelining: 1,
      keepAliveTimeout: 60_000,
      keepAliveMaxTimeout: 600_000,
    });
    this.headers = { "content-type": "application/json", ...options.headers };
  }

  send(payload: Payload, intendedAt: number, done: (s: Sample) => void): void {
    const sentAt = performance.now();
    const s: Sample = {
      payload,
      intendedAt,
      sentAt,
      headersAt: Number.NaN,
      endAt: 0,
      status: 0,
      error: null,
      bytes: 0,
      audioMs: 0,
      tokens: 0,
    };
    let expected = -1;
    let finished = false;
    const finish = (error: string | null) => {
      if (finished) return;
      finished = true;
      s.endAt = performance.now();
      s.error = error;
      done(s);
    };
    const handler: Dispatcher.DispatchHandler = {
      // undici takes a handler for its current API only when it has onRequestStart
      onRequestStart() {},
      onResponseStart(_c, statusCode, headers) {
        s.headersAt = performance.now();
        s.status = statusCode;
        const length = header(headers, "content-length");
        if (length !== undefined) expected = Number(length);
        if (statusCode === 200) {
          s.audioMs = Number(header(headers, "x-audio-duration-ms") ?? 0) || 0;
          const tokens = Number(header(headers, "x-tokens"));
          s.tokens = Number.isFinite(tokens) && tokens >= 0 ? tokens : tokensFromAudioMs(s.audioMs);
        }
      },
      onResponseData(_c, chunk) {
        s.bytes += chunk.byteLength;
      },
      onResponseEnd() {
        if (s.status !== 200) finish(`http_${s.status}`);
        else if (expected >= 0 && s.bytes !== expected) finish("short_body");
        else finish(null);
      },
      onResponseError(_c, err) {
        finish(errorName(err));
      },
    };
    try {
      this.pool.dispatch(
        {
          method: "POST",
          path: this.options.path,
          headers: this.headers,
          body: payload.body,
          headersTimeout: this.options.timeoutMs,
          bodyTimeout: this.options.timeoutMs,
        },
        handler,
      );
    } catch (e) {
      // never call back synchronously: a closed-model user would loop on the stack
      setImmediate(() => finish(errorName(e)));
    }
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
