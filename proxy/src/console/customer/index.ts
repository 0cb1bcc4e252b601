import { Hono } from "hono";
import { sha256Hex, timingSafeEqualHex } from "../../store/crypto.ts";
import { type ConsoleDeps, CUSTOMER_COOKIE, CUSTOMER_SESSION_MS } from "../deps.ts";
import type { ConsoleEnv } from "../env.ts";
import { sessionGuard } from "../guard.ts";
import { clearCookie } from "../http.ts";
import { readSignIn, renderSignIn, type SignInSpec, startSession } from "../sign-in.tsx";
import { registerBillingPage } from "./billing.tsx";
import { registerJobPages } from "./jobs.tsx";
import { registerKeyPages } from "./keys.tsx";
import { registerPlayground } from "./playground.tsx";
import { registerUsagePages } from "./usage.tsx";

const ROOT = "/console";
const SIGN_IN: SignInSpec = {
  area: "Console",
  root: ROOT,
  action: "/console/sign-in",
  label: "API key",
  hint: "(tts_live_…; it stays in this browser's session cookie, encrypted)",
  autocomplete: "current-password",
};

/** The customer console at /console: sign in with an API key, then usage, keys, playground, jobs and billing. */
export function customerConsole(d: ConsoleDeps): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();
  const sha256 = d.proxy.sha256 ?? sha256Hex;

  app.get("/sign-in", (c) => renderSignIn(d, c, SIGN_IN));
  app.post("/sign-in", async (c) => {
    const read = await readSignIn(d, c, SIGN_IN);
    if ("refused" in read) return read.refused;
    const hash = await sha256(read.credential);
    const found = await d.proxy.stores.keys.findActiveByHash(hash);
    if (!found || !timingSafeEqualHex(found.key.hash, hash)) {
      return renderSignIn(d, c, SIGN_IN, "That API key is unknown, revoked or expired.", 401);
    }
    const { cookie } = await d.signer.issue(hash, read.credential, CUSTOMER_SESSION_MS);
    startSession(c, CUSTOMER_COOKIE, ROOT, cookie, CUSTOMER_SESSION_MS);
    return c.redirect("/console/usage", 303);
  });

  app.use(
    "*",
    sessionGuard({
      signer: d.signer,
      cookie: CUSTOMER_COOKIE,
      path: ROOT,
      signInPath: "/console/sign-in",
      async resolve(claims, c) {
        // Re-read on every page: a revoked or expired key, or a key rotated away, ends its sessions at once.
        const account = await d.proxy.stores.keys.findActiveByHash(claims.sub);
        if (!account) return false;
        c.set("account", account);
        return true;
      },
    }),
  );

  app.get("/", (c) => c.redirect("/console/usage", 303));
  app.post("/sign-out", async (c) => {
    await d.signer.signOut(c.get("session"));
    clearCookie(c, CUSTOMER_COOKIE, ROOT);
    return c.redirect("/console/sign-in", 303);
  });
  registerUsagePages(app, d);
  registerKeyPages(app, d);
  registerPlayground(app, d);
  registerJobPages(app, d);
  registerBillingPage(app, d);
  return app;
}
