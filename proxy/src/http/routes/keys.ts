import type { Hono } from "hono";
import { ProxyError } from "../../core/errors.ts";
import { ACTIVE_KEY_LIMITS, createCustomerKey, keyView } from "../customer-keys.ts";
import type { ProxyDeps, ProxyEnv } from "../deps.ts";
import { readJson } from "../read-json.ts";
import { keyBodySchema } from "../schemas.ts";

/** GET/POST/DELETE /v1/keys: the calling key's customer lists, creates and revokes its own keys. */
export function registerKeyRoutes(app: Hono<ProxyEnv>, deps: ProxyDeps): void {
  const now = deps.now ?? Date.now;
  app.get("/v1/keys", async (c) => {
    const { customer, plan } = c.get("auth");
    const keys = await deps.stores.keys.listForCustomer(customer.id);
    return c.json({ keys: keys.map(keyView), active_key_limit: ACTIVE_KEY_LIMITS[plan.kind] });
  });
  app.post("/v1/keys", async (c) => {
    const body = await readJson(c, keyBodySchema, deps.config.maxBodyBytes);
    const issued = await createCustomerKey(
      deps.stores,
      c.get("auth"),
      { name: body.name, expiresAt: body.expires_at ?? null },
      now(),
    );
    // The only time the key is shown: only its SHA-256 is stored.
    return c.json(
      { id: issued.id, key: issued.key, prefix: issued.prefix, name: issued.name, expires_at: issued.expiresAt },
      201,
    );
  });
  app.delete("/v1/keys/:id", async (c) => {
    const key = await deps.stores.keys.revokeOwned(c.get("auth").customer.id, c.req.param("id"));
    // Another customer's key id answers exactly like an unknown one.
    if (!key) throw new ProxyError("NOT_FOUND", "key not found");
    return c.json({ key: keyView(key) });
  });
}
