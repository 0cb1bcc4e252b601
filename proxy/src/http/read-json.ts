import type { Context } from "hono";
import type { z } from "zod";
import { ProxyError } from "../core/errors.ts";

/** Parse and validate a JSON body: 415 for another content type, 400 INVALID_JSON, 400 INVALID_REQUEST with issues. */
export async function readJson<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) {
    throw new ProxyError("UNSUPPORTED_MEDIA_TYPE", `Content-Type must be application/json, not "${type || "(none)"}"`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(await c.req.text());
  } catch {
    throw new ProxyError("INVALID_JSON", "the request body is not valid JSON");
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new ProxyError("INVALID_REQUEST", "the request body does not match the schema", {
      details: parsed.error.issues,
    });
  }
  return parsed.data;
}
