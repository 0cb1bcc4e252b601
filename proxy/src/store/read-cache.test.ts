import { describe, expect, it } from "vitest";
import { sha256Hex } from "./crypto.ts";
import { createMemoryStores } from "./memory/index.ts";
import type { Stores } from "./ports.ts";
import { withReadCache } from "./read-cache.ts";
import { ManualClock, seedCustomer } from "./testing/harness.ts";

/** Counts the inner store's hot reads, so a test can tell a cache hit from a store read. */
function counting(stores: Stores) {
  const counts = { findActiveByHash: 0, listVersions: 0 };
  const keys = stores.keys;
  const plans = stores.plans;
  const findActiveByHash = keys.findActiveByHash.bind(keys);
  const listVersions = plans.listVersions.bind(plans);
  keys.findActiveByHash = (hash) => {
    counts.findActiveByHash++;
    return findActiveByHash(hash);
  };
  plans.listVersions = (planId) => {
    counts.listVersions++;
    return listVersions(planId);
  };
  return counts;
}

async function setup(ttlMs = 1000) {
  const clock = new ManualClock();
  const inner = createMemoryStores({ clock });
  const seeded = await seedCustomer(inner, clock);
  const counts = counting(inner);
  const cached = withReadCache(inner, { ttlMs, now: () => clock.now() });
  const hash = await sha256Hex(seeded.key.key);
  return { clock, inner, cached, counts, hash, seeded };
}

describe("read cache in front of the stores", () => {
  it("serves repeated key lookups from memory within the TTL, and reads again after it", async () => {
    const { clock, cached, counts, hash } = await setup();
    for (let i = 0; i < 5; i++) expect((await cached.keys.findActiveByHash(hash))?.key.hash).toBe(hash);
    expect(counts.findActiveByHash).toBe(1);
    clock.advance(1000);
    await cached.keys.findActiveByHash(hash);
    expect(counts.findActiveByHash).toBe(2);
  });

  it("recording a key's last use leaves the cache as it is (it is written on requests, once a minute per key)", async () => {
    const { cached, counts, hash, seeded } = await setup();
    await cached.keys.findActiveByHash(hash);
    await cached.keys.markUsed(seeded.key.id, 5_000);
    await cached.keys.findActiveByHash(hash);
    expect(counts.findActiveByHash).toBe(1);
    expect((await cached.keys.listForCustomer(seeded.customer.id))[0]?.lastUsedAt).toBe(5_000);
  });

  it("a revocation or suspension through the cached stores is seen by the very next lookup", async () => {
    const { cached, hash, seeded } = await setup();
    expect(await cached.keys.findActiveByHash(hash)).not.toBeNull();
    await cached.customers.suspend(seeded.customer.id, "unpaid");
    expect((await cached.keys.findActiveByHash(hash))?.customer.status).toBe("suspended");
    await cached.keys.revoke(seeded.key.id);
    expect(await cached.keys.findActiveByHash(hash)).toBeNull();
  });

  it("a write made around the cache (another process) is seen within the TTL, not before", async () => {
    const { clock, inner, cached, hash, seeded } = await setup(1000);
    expect(await cached.keys.findActiveByHash(hash)).not.toBeNull();
    await inner.keys.revoke(seeded.key.id);
    clock.advance(999);
    expect(await cached.keys.findActiveByHash(hash)).not.toBeNull();
    clock.advance(1);
    expect(await cached.keys.findActiveByHash(hash)).toBeNull();
  });

  it("never caches an unknown key, so a key issued elsewhere works at once", async () => {
    const { inner, cached, counts, seeded } = await setup();
    const issued = await inner.keys.issueKey(seeded.customer.id);
    if (!issued.ok) throw new Error(issued.message);
    const hash = await sha256Hex(issued.value.key);
    await inner.keys.revoke(issued.value.id);
    expect(await cached.keys.findActiveByHash(hash)).toBeNull();
    expect(await cached.keys.findActiveByHash(hash)).toBeNull();
    expect(counts.findActiveByHash).toBe(2);
  });

  it("a lookup that started before a write finished does not put the old answer back", async () => {
    const { cached, inner, hash, seeded } = await setup();
    // The store answers the first lookup only after the revocation has gone through the cached stores.
    const find = inner.keys.findActiveByHash.bind(inner.keys);
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    inner.keys.findActiveByHash = async (h) => {
      const before = await find(h);
      await gate;
      return before;
    };
    const slow = cached.keys.findActiveByHash(hash);
    await cached.keys.revoke(seeded.key.id);
    release();
    expect(await slow).not.toBeNull(); // it read before the revocation
    inner.keys.findActiveByHash = find;
    expect(await cached.keys.findActiveByHash(hash)).toBeNull();
  });

  it("picks the price version in force at the request's time from one cached list, future versions included", async () => {
    const { clock, cached, counts, seeded } = await setup(60_000);
    const t0 = clock.now();
    const later = await cached.plans.addPriceVersion(seeded.plan.id, {
      effectiveFrom: t0 + 10_000,
      unitPriceMicrosPer1kTokens: 9_999,
    });
    if (!later.ok) throw new Error(later.message);
    expect((await cached.plans.versionAt(seeded.plan.id, t0))?.id).toBe(seeded.version.id);
    expect((await cached.plans.versionAt(seeded.plan.id, t0 + 9_999))?.id).toBe(seeded.version.id);
    expect((await cached.plans.versionAt(seeded.plan.id, t0 + 10_000))?.id).toBe(later.value.id);
    expect(await cached.plans.versionAt(seeded.plan.id, t0 - 1)).toBeNull();
    expect(counts.listVersions).toBe(1);
  });

  it("ttlMs 0 turns the cache off", async () => {
    const { cached, counts, hash } = await setup(0);
    await cached.keys.findActiveByHash(hash);
    await cached.keys.findActiveByHash(hash);
    expect(counts.findActiveByHash).toBe(2);
  });
});

describe("read caches of several replicas sharing a version", () => {
  /** Two replicas' caches over one database, each with a long TTL; `shared` or not. */
  async function twoReplicas(shared: boolean) {
    const { clock, inner, hash, seeded, counts } = await setup(60_000);
    let version = 0;
    const sharedVersion = {
      read: async () => String(version),
      bump: async () => {
        version++;
      },
    };
    const options = { ttlMs: 60_000, now: () => clock.now(), ...(shared ? { shared: sharedVersion } : {}) };
    return { a: withReadCache(inner, options), b: withReadCache(inner, options), hash, seeded, counts };
  }

  it("a key revoked through one replica is refused by the next lookup on the other", async () => {
    const { a, b, hash, seeded, counts } = await twoReplicas(true);
    expect(await b.keys.findActiveByHash(hash)).not.toBeNull();
    expect(await b.keys.findActiveByHash(hash)).not.toBeNull();
    expect(counts.findActiveByHash).toBe(1); // still a cache while nothing is written
    await a.keys.revoke(seeded.key.id);
    expect(await b.keys.findActiveByHash(hash)).toBeNull();
  });

  it("without the shared version the other replica keeps serving its cached key until the TTL (the case it fixes)", async () => {
    const { a, b, hash, seeded } = await twoReplicas(false);
    expect(await b.keys.findActiveByHash(hash)).not.toBeNull();
    await a.keys.revoke(seeded.key.id);
    expect(await b.keys.findActiveByHash(hash)).not.toBeNull();
  });

  it("a version it cannot read (Redis down) means no cached answer, not a stale one", async () => {
    const { clock, inner, hash, seeded } = await setup(60_000);
    let down = false;
    const shared = {
      read: async () => {
        if (down) throw new Error("redis down");
        return "1";
      },
      bump: async () => {},
    };
    const b = withReadCache(inner, { ttlMs: 60_000, now: () => clock.now(), shared });
    expect(await b.keys.findActiveByHash(hash)).not.toBeNull();
    await inner.keys.revoke(seeded.key.id); // written by another replica whose bump was lost
    down = true;
    expect(await b.keys.findActiveByHash(hash)).toBeNull();
  });
});
