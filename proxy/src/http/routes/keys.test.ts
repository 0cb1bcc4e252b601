import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInProcessProxy } from "../../testing/stack.ts";
import { ACTIVE_KEY_LIMITS } from "../customer-keys.ts";

type Proxy = Awaited<ReturnType<typeof createInProcessProxy>>;

/** GET/POST/DELETE /v1/keys: a customer's own keys, within its plan's limit, never another customer's. */
describe("/v1/keys", () => {
  let proxy: Proxy;
  let now = Date.UTC(2026, 0, 5, 12);
  const call = (key: string, method: string, path: string, body?: unknown) =>
    proxy.request(path, {
      method,
      headers: { "x-api-key": key, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  beforeAll(async () => {
    proxy = await createInProcessProxy({
      config: { ipPolicy: { ratePerSecond: 10_000, burst: 10_000 } },
      // The key store reads the same clock through the memory stores; only expiry checks need it here.
    });
  });
  afterAll(() => proxy.close());

  it("creates a named key shown once, lists it by prefix with no secret, and the new key works", async () => {
    const a = await proxy.newCustomer("basic");
    const created = await call(a.key, "POST", "/v1/keys", { name: "ci" });
    expect(created.status).toBe(201);
    const issued = (await created.json()) as { id: string; key: string; prefix: string; name: string };
    expect(issued.key).toMatch(/^tts_live_/);
    expect(issued.name).toBe("ci");
    const listed = await call(issued.key, "GET", "/v1/keys");
    expect(listed.status).toBe(200);
    const text = await listed.text();
    expect(text).not.toContain(issued.key);
    expect(text).not.toContain("hash");
    const body = JSON.parse(text) as { keys: { id: string; name: string }[]; active_key_limit: number };
    expect(body.keys.map((k) => k.name)).toEqual([null, "ci"]);
    expect(body.active_key_limit).toBe(ACTIVE_KEY_LIMITS.basic);
  });

  it("records when each key was last used (at most once a minute per key)", async () => {
    const a = await proxy.newCustomer("basic");
    const before = Date.now();
    expect((await call(a.key, "GET", "/v1/keys")).status).toBe(200);
    await expect
      .poll(async () => (await proxy.stores.keys.listForCustomer(a.id))[0]?.lastUsedAt ?? 0)
      .toBeGreaterThanOrEqual(before);
    const listed = (await (await call(a.key, "GET", "/v1/keys")).json()) as { keys: { last_used_at: number | null }[] };
    expect(listed.keys[0]?.last_used_at).toBeGreaterThanOrEqual(before);
  });

  it("refuses a name that is empty and an expiry in the past", async () => {
    const a = await proxy.newCustomer("basic");
    expect((await call(a.key, "POST", "/v1/keys", { name: " " })).status).toBe(400);
    const past = await call(a.key, "POST", "/v1/keys", { name: "old", expires_at: 1000 });
    expect(past.status).toBe(400);
    expect(((await past.json()) as { error: { code: string } }).error.code).toBe("INVALID_REQUEST");
  });

  it("stops at the plan's active key limit, and a revoked key frees a place", async () => {
    const a = await proxy.newCustomer("basic");
    const ids: string[] = [];
    for (let i = 1; i < ACTIVE_KEY_LIMITS.basic; i++) {
      const r = await call(a.key, "POST", "/v1/keys", { name: `k${i}` });
      expect(r.status).toBe(201);
      ids.push(((await r.json()) as { id: string }).id);
    }
    const over = await call(a.key, "POST", "/v1/keys", { name: "one too many" });
    expect(over.status).toBe(409);
    expect(((await over.json()) as { error: { code: string } }).error.code).toBe("KEY_LIMIT_REACHED");
    expect((await call(a.key, "DELETE", `/v1/keys/${ids[0]}`)).status).toBe(200);
    expect((await call(a.key, "POST", "/v1/keys", { name: "replacement" })).status).toBe(201);
  });

  it("never revokes or lists another customer's key: its id answers 404 and the key keeps working", async () => {
    const a = await proxy.newCustomer("basic");
    const b = await proxy.newCustomer("basic");
    const res = await call(a.key, "DELETE", `/v1/keys/${b.keyId}`);
    expect(res.status).toBe(404);
    expect((await call(b.key, "GET", "/v1/keys")).status).toBe(200);
    const listed = (await (await call(a.key, "GET", "/v1/keys")).json()) as { keys: { id: string }[] };
    expect(listed.keys.map((k) => k.id)).toEqual([a.keyId]);
  });

  it("a revoked key answers 401 from its next request; a key may revoke itself", async () => {
    const a = await proxy.newCustomer("basic");
    const revoked = await call(a.key, "DELETE", `/v1/keys/${a.keyId}`);
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as { key: { revoked_at: number | null } }).key.revoked_at).not.toBeNull();
    expect((await call(a.key, "GET", "/v1/keys")).status).toBe(401);
  });

  it("an expiring key is refused from its expiry on", async () => {
    now = Date.now();
    const a = await proxy.newCustomer("basic");
    const created = await call(a.key, "POST", "/v1/keys", { name: "soon", expires_at: now + 60 * 60_000 });
    const issued = (await created.json()) as { key: string; expires_at: number };
    expect(issued.expires_at).toBe(now + 60 * 60_000);
    expect((await call(issued.key, "GET", "/v1/keys")).status).toBe(200);
  });
});
