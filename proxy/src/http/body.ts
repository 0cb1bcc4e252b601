import type { Context, MiddlewareHandler } from "hono";
import { ProxyError } from "../core/errors.ts";

/**
 * Request bodies with a size cap that never buffers more than the cap.
 *
 * - A body framed by `Content-Length` (the usual case) is refused from the header alone, before a byte of it is read;
 *   one within the cap is read with the runtime's fast path (`text()`), which the framing bounds.
 * - A chunked body (no `Content-Length`) is read chunk by chunk and abandoned as soon as it passes the cap.
 *
 * Hono's `bodyLimit` middleware gives the same answers but touches `c.req.raw.body` on every request, which makes
 * @hono/node-server build a full web `Request` and stream (tens of µs per request on the hot path); this reads the
 * lightweight request directly.
 */

const tooLarge = (maxBytes: number) => new ProxyError("PAYLOAD_TOO_LARGE", `request body exceeds ${maxBytes} bytes`);

/**
 * A request body that fails while it is read failed on the client's side (it went away mid-upload, or its framing
 * broke): 499 CLIENT_CLOSED, logged as a client event, not an INTERNAL error (issue 14 #7).
 */
export async function readingBody<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    if (e instanceof ProxyError) throw e;
    throw new ProxyError("CLIENT_CLOSED", `the client stopped sending its body (${String(e)})`);
  }
}

/** The declared length, or null for a body without one (chunked). A malformed length is a 400. */
function declaredLength(c: Context): number | null {
  if (c.req.header("transfer-encoding") !== undefined) return null;
  const value = c.req.header("content-length");
  if (value === undefined) return null;
  if (!/^\d{1,15}$/.test(value)) throw new ProxyError("INVALID_REQUEST", "Content-Length is not a number");
  return Number(value);
}

/** 413 from the declared length alone, for every route that takes a body; chunked bodies are capped when read. */
export function bodySizeLimit(maxBytes: number): MiddlewareHandler {
  return async function bodySizeLimitMiddleware(c, next) {
    const declared = declaredLength(c);
    if (declared !== null && declared > maxBytes) throw tooLarge(maxBytes);
    await next();
  };
}

/** The body as UTF-8 text, at most `maxBytes` bytes (413 beyond, without reading the rest). */
export async function readBodyText(c: Context, maxBytes: number): Promise<string> {
  const declared = declaredLength(c);
  if (declared !== null) {
    if (declared > maxBytes) throw tooLarge(maxBytes);
    return readingBody(() => c.req.text());
  }
  const body = c.req.raw.body;
  if (!body) return "";
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await readingBody(() => reader.read());
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(all);
}
