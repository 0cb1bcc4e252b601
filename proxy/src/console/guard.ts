import type { MiddlewareHandler } from "hono";
import type { ConsoleEnv } from "./env.ts";
import { clearCookie, formFields, readCookie, sameOrigin } from "./http.ts";
import type { SessionClaims, SessionSigner } from "./session.ts";

export interface GuardOptions {
  signer: SessionSigner;
  cookie: string;
  /** the cookie's path: the console's root */
  path: string;
  signInPath: string;
  /** loads what the pages need about the signed-in user; false: the session no longer stands (key revoked…) */
  resolve(claims: SessionClaims, c: Parameters<MiddlewareHandler<ConsoleEnv>>[0]): Promise<boolean>;
}

/**
 * Pages behind sign-in. No valid session → to the sign-in page. A POST must come from our own origin and carry the
 * session's CSRF token (`_csrf`): anything else is refused with 403 before the handler runs.
 */
export function sessionGuard(options: GuardOptions): MiddlewareHandler<ConsoleEnv> {
  return async function sessionGuardMiddleware(c, next) {
    const claims = await options.signer.read(readCookie(c, options.cookie));
    if (!claims || !(await options.resolve(claims, c))) {
      clearCookie(c, options.cookie, options.path);
      return c.redirect(options.signInPath, 303);
    }
    const csrf = await options.signer.csrfToken(claims.sid);
    if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      const fields = await formFields(c);
      if (!sameOrigin(c) || !(await options.signer.checkCsrf(claims.sid, fields._csrf))) {
        return c.text("Forbidden: this form is stale or did not come from this console. Reload the page.", 403);
      }
    }
    c.set("session", claims);
    c.set("csrf", csrf);
    await next();
  };
}
