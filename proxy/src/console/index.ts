import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { ProxyDeps, ProxyEnv } from "../http/deps.ts";
import { adminConsole } from "./admin/index.ts";
import { customerConsole } from "./customer/index.ts";
import type { ConsoleDeps } from "./deps.ts";
import type { ConsoleEnv } from "./env.ts";
import { consoleHeaders } from "./http.ts";
import { SessionSigner } from "./session.ts";

/** Capacity reports are uploaded as JSON in a form field: the consoles take bodies up to this. */
const CONSOLE_MAX_BODY_BYTES = 1024 * 1024;

/**
 * Mounts the customer console (/console) and the admin console (/admin/console) on the app. Register before the
 * `/admin/*` bearer-token middleware: the admin console has its own sign-in and session.
 *
 * Sessions are signed with a secret derived from the admin token (the one secret every deployment has), so
 * rotating the admin token also ends every console session.
 */
export function registerConsoles(app: Hono<ProxyEnv>, deps: ProxyDeps): void {
  // Read at each call: tests move the proxy's clock after building the app (session expiry without sleeping).
  const now = () => (deps.now ?? Date.now)();
  const d: ConsoleDeps = {
    proxy: deps,
    app,
    now,
    signer: new SessionSigner(`console-session.${deps.config.adminToken}`, now, deps.stores.consoleSessions),
    clientIp: (c: Context) =>
      deps.clientIp({ remoteAddress: deps.remoteAddress(c), headers: c.req.raw.headers }) ?? "unknown",
  };
  const mounts: [string, Hono<ConsoleEnv>][] = [
    ["/console", customerConsole(d)],
    ["/admin/console", adminConsole(d)],
  ];
  for (const [root, pages] of mounts) {
    const mounted = new Hono<ConsoleEnv>();
    mounted.use(
      consoleHeaders(),
      bodyLimit({ maxSize: CONSOLE_MAX_BODY_BYTES, onError: (c) => c.text("Payload too large", 413) }),
    );
    mounted.route("/", pages);
    // The consoles' variables extend the proxy's: the request id and response headers middlewares still apply.
    app.route(root, mounted as unknown as Hono<ProxyEnv>);
  }
}
