import type { PlanKind } from "../../../migrations/schema/index.ts";
import { ProxyError } from "../core/errors.ts";
import type { ApiKey, IssuedKey, KeyContext, Stores } from "../store/ports.ts";

/**
 * A customer managing its own API keys (the `/v1/keys` API and the console's keys page share this). Each plan kind
 * allows so many active keys: enough for an app per environment, few enough that a leaked key cannot mint an
 * unbounded fleet. A key can revoke any key of its own customer, itself included, never another customer's.
 */
export const ACTIVE_KEY_LIMITS: Record<PlanKind, number> = { basic: 5, batch: 10, enterprise: 50 };

/** Keys not revoked and not expired at `now`. */
export const isActiveKey = (key: ApiKey, now: number): boolean =>
  key.revokedAt === null && (key.expiresAt === null || key.expiresAt > now);

export interface NewCustomerKey {
  name: string;
  /** epoch ms; must be in the future */
  expiresAt?: number | null;
}

export async function createCustomerKey(
  stores: Stores,
  auth: Pick<KeyContext, "customer" | "plan">,
  input: NewCustomerKey,
  now: number,
): Promise<IssuedKey & { name: string; expiresAt: number | null }> {
  const expiresAt = input.expiresAt ?? null;
  if (expiresAt !== null && expiresAt <= now)
    throw new ProxyError("INVALID_REQUEST", "expires_at must be in the future");
  // Counted, then issued: two concurrent creations can pass the count together and end one over the limit. The limit
  // bounds abuse, it does not bill anything, so one extra key in a race is acceptable.
  const active = (await stores.keys.listForCustomer(auth.customer.id)).filter((k) => isActiveKey(k, now)).length;
  const limit = ACTIVE_KEY_LIMITS[auth.plan.kind];
  if (active >= limit) {
    throw new ProxyError("KEY_LIMIT_REACHED", `the ${auth.plan.id} plan allows ${limit} active keys; revoke one first`);
  }
  const r = await stores.keys.issueKey(auth.customer.id, input.name, { expiresAt });
  if (!r.ok) throw new ProxyError("NOT_FOUND", r.message);
  return { ...r.value, name: input.name, expiresAt };
}

/** The key as a customer sees it: never its hash. */
export function keyView(key: ApiKey) {
  return {
    id: key.id,
    prefix: key.prefix,
    name: key.name,
    created_at: key.createdAt,
    last_used_at: key.lastUsedAt,
    expires_at: key.expiresAt,
    revoked_at: key.revokedAt,
  };
}
