import { Hono } from "hono";
import { sha256Hex, timingSafeEqualHex } from "../../store/crypto.ts";
import { ADMIN_COOKIE, ADMIN_SESSION_MS, type ConsoleDeps } from "../deps.ts";
import type { ConsoleEnv } from "../env.ts";
import { sessionGuard } from "../guard.ts";
import { clearCookie } from "../http.ts";
import { readSignIn, renderSignIn, type SignInSpec, startSession } from "../sign-in.tsx";
import { registerBillingPages } from "./billing.tsx";
import { registerCapacityPages } from "./capacity.tsx";
import { registerCustomerPages } from "./customers.tsx";
import { registerNodePages } from "./nodes.tsx";
import { registerPlanPages } from "./plans.tsx";
import { registerRevenuePage } from "./revenue.tsx";

const ROOT = "/admin/console";
const SIGN_IN: SignInSpec = {
  area: "Admin",
  root: ROOT,
  action: "/admin/console/sign-in",
  label: "Admin token",
  hint: "(ADMIN_TOKEN, or DATA_DIR/admin-token.txt on the embedded stack)",
  autocomplete: "current-password",
};

/** The admin console at /admin/console: admin-token sign-in, then customers, prices, capacity, nodes, revenue. */
export function adminConsole(d: ConsoleDeps): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();
  const sha256 = d.proxy.sha256 ?? sha256Hex;
  const expected = Promise.resolve(sha256(d.proxy.config.adminToken));

  app.get("/sign-in", (c) => renderSignIn(d, c, SIGN_IN));
  app.post("/sign-in", async (c) => {
    const read = await readSignIn(d, c, SIGN_IN);
    if ("refused" in read) return read.refused;
    if (!timingSafeEqualHex(await sha256(read.credential), await expected)) {
      return renderSignIn(d, c, SIGN_IN, "That is not the admin token.", 401);
    }
    const { cookie } = await d.signer.issue("admin", read.credential, ADMIN_SESSION_MS);
    startSession(c, ADMIN_COOKIE, ROOT, cookie, ADMIN_SESSION_MS);
    return c.redirect("/admin/console/customers", 303);
  });

  app.use(
    "*",
    sessionGuard({
      signer: d.signer,
      cookie: ADMIN_COOKIE,
      path: ROOT,
      signInPath: "/admin/console/sign-in",
      // A customer session's cookie is another name and path; a forged "admin" subject cannot be signed.
      resolve: async (claims) => claims.sub === "admin",
    }),
  );

  app.get("/", (c) => c.redirect("/admin/console/customers", 303));
  app.post("/sign-out", async (c) => {
    await d.signer.signOut(c.get("session"));
    clearCookie(c, ADMIN_COOKIE, ROOT);
    return c.redirect("/admin/console/sign-in", 303);
  });
  registerCustomerPages(app, d);
  registerPlanPages(app, d);
  registerCapacityPages(app, d);
  registerNodePages(app, d);
  registerRevenuePage(app, d);
  registerBillingPages(app, d);
  return app;
}
