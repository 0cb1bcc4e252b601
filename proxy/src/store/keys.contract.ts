import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sha256Hex } from "./crypto.ts";
import type { Stores } from "./ports.ts";
import { type ContractOptions, ManualClock, type Seeded, type StoreHarness, seedCustomer } from "./testing/harness.ts";

/** The KeyStore contract: every implementation must pass it. */
export function runKeyStoreContract({ name, make }: ContractOptions): void {
  describe(`KeyStore contract (${name})`, () => {
    let clock: ManualClock;
    let harness: StoreHarness;
    let stores: Stores;
    let seed: Seeded;

    beforeEach(async () => {
      clock = new ManualClock();
      harness = await make(clock);
      stores = harness.stores;
      seed = await seedCustomer(stores, clock);
    });
    afterEach(async () => {
      await harness.close?.();
    });

    it("issues a tts_live_ key shown once, stores only its SHA-256, and finds it by hash", async () => {
      const issued = seed.key;
      expect(issued.key).toMatch(/^tts_live_[0-9A-Za-z]{32}$/);
      expect(issued.key.startsWith(issued.prefix)).toBe(true);
      expect(issued.prefix.length).toBeLessThan(issued.key.length - 16);

      const found = await stores.keys.findActiveByHash(await sha256Hex(issued.key));
      expect(found?.key.id).toBe(issued.id);
      expect(found?.key.hash).toBe(await sha256Hex(issued.key));
      expect(found?.customer.id).toBe(seed.customer.id);
      expect(found?.plan).toEqual(seed.plan);
      expect(JSON.stringify(await stores.keys.listForCustomer(seed.customer.id))).not.toContain(issued.key);
    });

    it("issues distinct keys", async () => {
      const second = await stores.keys.issueKey(seed.customer.id, "ci");
      expect(second.ok && second.value.key !== seed.key.key && second.value.id !== seed.key.id).toBe(true);
    });

    it("finds nothing for an unknown hash", async () => {
      expect(await stores.keys.findActiveByHash(await sha256Hex("tts_live_nope"))).toBeNull();
    });

    it("no longer finds a revoked key, and keeps the first revocation time", async () => {
      clock.advance(1_000);
      const revoked = await stores.keys.revoke(seed.key.id);
      expect(revoked?.revokedAt).toBe(clock.now());
      expect(await stores.keys.findActiveByHash(await sha256Hex(seed.key.key))).toBeNull();
      clock.advance(1_000);
      expect((await stores.keys.revoke(seed.key.id))?.revokedAt).toBe(revoked?.revokedAt);
      expect(await stores.keys.revoke("key_unknown")).toBeNull();
    });

    it("still finds the key of a suspended customer, showing the suspension (403, not 401)", async () => {
      await stores.customers.suspend(seed.customer.id, "unpaid invoice");
      const found = await stores.keys.findActiveByHash(await sha256Hex(seed.key.key));
      expect(found?.customer.status).toBe("suspended");
      expect(found?.customer.suspendedReason).toBe("unpaid invoice");
    });

    it("refuses a key for an unknown customer", async () => {
      const result = await stores.keys.issueKey("cus_unknown");
      expect(result.ok ? "ok" : result.error).toBe("customer_not_found");
    });

    it("lists a customer's keys, revoked ones included, oldest first", async () => {
      clock.advance(10);
      const second = await stores.keys.issueKey(seed.customer.id, "second");
      await stores.keys.revoke(seed.key.id);
      const keys = await stores.keys.listForCustomer(seed.customer.id);
      expect(keys.map((k) => [k.id, k.name, k.revokedAt !== null])).toEqual([
        [seed.key.id, "default", true],
        [second.ok ? second.value.id : "", "second", false],
      ]);
      expect(await stores.keys.listForCustomer("cus_unknown")).toEqual([]);
    });

    it("issues a key with an expiry, found until then and no more from then on", async () => {
      const expiresAt = clock.now() + 60_000;
      const issued = await stores.keys.issueKey(seed.customer.id, "temp", { expiresAt });
      if (!issued.ok) throw new Error(issued.message);
      const hash = await sha256Hex(issued.value.key);
      expect((await stores.keys.findActiveByHash(hash))?.key.expiresAt).toBe(expiresAt);
      clock.advance(59_999);
      expect(await stores.keys.findActiveByHash(hash)).not.toBeNull();
      clock.advance(1);
      expect(await stores.keys.findActiveByHash(hash)).toBeNull();
      const listed = (await stores.keys.listForCustomer(seed.customer.id)).find((k) => k.id === issued.value.id);
      expect(listed?.expiresAt).toBe(expiresAt);
      expect((await stores.keys.findActiveByHash(await sha256Hex(seed.key.key)))?.key.expiresAt).toBeNull();
    });

    it("revokes a customer's own key only: another customer's key id is unknown and stays active", async () => {
      const other = await stores.customers.createCustomer({
        name: "Other",
        email: "o@example.com",
        planId: seed.plan.id,
      });
      if (!other.ok) throw new Error(other.message);
      expect(await stores.keys.revokeOwned(other.value.id, seed.key.id)).toBeNull();
      expect(await stores.keys.findActiveByHash(await sha256Hex(seed.key.key))).not.toBeNull();
      clock.advance(5);
      expect((await stores.keys.revokeOwned(seed.customer.id, seed.key.id))?.revokedAt).toBe(clock.now());
      expect(await stores.keys.findActiveByHash(await sha256Hex(seed.key.key))).toBeNull();
      expect(await stores.keys.revokeOwned(seed.customer.id, "key_unknown")).toBeNull();
    });

    it("records the last use, never moving it backwards", async () => {
      await stores.keys.markUsed(seed.key.id, 5_000);
      await stores.keys.markUsed(seed.key.id, 4_000);
      const [key] = await stores.keys.listForCustomer(seed.customer.id);
      expect(key?.lastUsedAt).toBe(5_000);
    });
  });
}
