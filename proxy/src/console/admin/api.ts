import type { ConsoleDeps } from "../deps.ts";
import type { ConsoleContext } from "../env.ts";
import { callApi } from "../internal.ts";

/** The admin API, called with the admin token sealed in the session: console writes are exactly API writes. */
export async function adminApi(d: ConsoleDeps, c: ConsoleContext, method: string, path: string, body?: unknown) {
  const token = (await d.signer.unseal(c.get("session"))) ?? "";
  return callApi(d.app, c, token, method, path, body);
}
