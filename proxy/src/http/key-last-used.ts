import type { Context } from "hono";
import type { KeyStore } from "../store/ports.ts";

/** How often a key's `last_used_at` is written: at most once a minute per key and process (it is a write). */
const MARK_EVERY_MS = 60_000;
const MAX_TRACKED = 100_000;

/**
 * Records that a key was used (the console's and /v1/keys' "last used"), off the request's path: the write is not
 * awaited (on Workers it is handed to `waitUntil`), a failure is logged and never fails the request.
 */
export function keyUseRecorder(
  keys: Pick<KeyStore, "markUsed">,
  now: () => number,
  log: (line: Record<string, unknown>) => void,
): (c: Context, keyId: string) => void {
  const lastMarked = new Map<string, number>();
  return (c, keyId) => {
    const at = now();
    const last = lastMarked.get(keyId);
    if (last !== undefined && at - last < MARK_EVERY_MS) return;
    if (lastMarked.size >= MAX_TRACKED) lastMarked.clear();
    lastMarked.set(keyId, at);
    const write = keys.markUsed(keyId, at).catch((e: unknown) => {
      log({ level: "warn", msg: "key last-used not recorded", key_id: keyId, error: String(e) });
    });
    try {
      c.executionCtx.waitUntil(write);
    } catch {
      // Node: no execution context; the promise runs on its own.
    }
  };
}
