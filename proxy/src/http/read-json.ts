import type { Context } from "hono";
import type { z } from "zod";
import { ProxyError } from "../core/errors.ts";
import { readBodyText } from "./body.ts";

/** The cap when a caller gives none (the proxy's default `maxBodyBytes`). */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

/**
 * Parse and validate a JSON body: 415 for another content type, 413 past `maxBytes` (never buffered beyond it),
 * 400 INVALID_JSON, 400 INVALID_REQUEST with the zod issues.
 */
export async function readJson<T extends z.ZodType>(
  c: Context,
  schema: T,
  maxBytes = DEFAULT_MAX_BODY_BYTES,
): Promise<z.infer<T>> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) {
    throw new ProxyError("UNSUPPORTED_MEDIA_TYPE", `Content-Type must be application/json, not "${type || "(none)"}"`);
  }
  const text = await readBodyText(c, maxBytes);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ProxyError("INVALID_JSON", "the request body is not valid JSON");
  }
  return parseWith(schema, raw);
}

/** Validate an already-parsed value: 400 INVALID_REQUEST with the zod issues. */
export function parseWith<T extends z.ZodType>(schema: T, raw: unknown): z.infer<T> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new ProxyError("INVALID_REQUEST", "the request body does not match the schema", {
      details: parsed.error.issues,
    });
  }
  return parsed.data;
}

/**
 * An optional JSON body (e.g. a suspension reason): no body, or one that is not JSON, reads as `{}`; one that is
 * JSON must match the schema.
 */
export async function readOptionalJson<T extends z.ZodType>(
  c: Context,
  schema: T,
  maxBytes = DEFAULT_MAX_BODY_BYTES,
): Promise<z.infer<T>> {
  const text = await readBodyText(c, maxBytes);
  let raw: unknown = {};
  try {
    if (text.trim() !== "") raw = JSON.parse(text);
  } catch {
    raw = {};
  }
  return parseWith(schema, raw);
}
