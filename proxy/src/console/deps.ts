import type { Hono } from "hono";
import type { ProxyDeps, ProxyEnv } from "../http/deps.ts";
import type { ConsoleContext } from "./env.ts";
import type { SessionSigner } from "./session.ts";

/** What both consoles are built from: the proxy's deps, the app (to call its own API), the session signer. */
export interface ConsoleDeps {
  proxy: ProxyDeps;
  app: Hono<ProxyEnv>;
  signer: SessionSigner;
  now: () => number;
  clientIp(c: ConsoleContext): string;
}

export const CUSTOMER_COOKIE = "tts_console";
export const ADMIN_COOKIE = "tts_admin_console";
/** A customer session lasts a working day; an admin one an hour (it can change prices). */
export const CUSTOMER_SESSION_MS = 8 * 3_600_000;
export const ADMIN_SESSION_MS = 3_600_000;
