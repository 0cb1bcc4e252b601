import type { Context } from "hono";
import type { ProxyEnv } from "../http/deps.ts";
import type { KeyContext } from "../store/ports.ts";
import type { SessionClaims } from "./session.ts";

/** The consoles' request variables, on top of the proxy's (request id, response headers). */
export type ConsoleEnv = {
  Variables: ProxyEnv["Variables"] & {
    /** this response's CSP nonce: the only inline <style>/<script> that run carry it */
    nonce: string;
    session: SessionClaims;
    /** the CSRF token every state-changing form of this session carries */
    csrf: string;
    /** customer console: the signed-in key, re-read on every request */
    account: KeyContext;
  };
};

export type ConsoleContext = Context<ConsoleEnv>;
