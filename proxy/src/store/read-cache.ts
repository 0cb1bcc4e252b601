import type { KeyContext, PriceVersion, Stores } from "./ports.ts";

/**
 * A read-through cache for the two lookups every metered request makes: the presented key (with its customer and
 * plan) and the price version in force. Without it each request pays two database queries (on SQLite through
 * drizzle, ~60 µs and ~200 µs on the bench machine; on D1 a network round trip each).
 *
 * Staleness is bounded two ways:
 * - every write made through the returned stores (admin API, billing: suspend, revoke, plan or price changes…)
 *   clears the cache when it completes, so this process sees its own writes at once;
 * - an entry is used for at most `ttlMs`, which bounds how late this process sees writes made elsewhere (another
 *   proxy process or a script on the same database): a revoked key or a suspended customer is refused within `ttlMs`.
 *
 * With several replicas on one database, `shared` makes the first bound hold across them: every write through any
 * replica's stores bumps one shared version (Redis: `adapters/redis/cache-version.ts`) after it commits and before it
 * answers, and every key lookup reads that version first; a changed (or unreadable) version drops this process's
 * cache. A key revoked on one replica is then refused by the next request on any replica, at the price of one Redis
 * round trip per request.
 *
 * Only positive key lookups are cached: an unknown key always reaches the store, so a key issued elsewhere works at
 * once. Reads that started before a write finished never fill the cache (a generation counter), so a slow read cannot
 * put pre-write data back.
 */

/** A version every replica's writes bump (see above). */
export interface SharedCacheVersion {
  read(): Promise<string>;
  bump(): Promise<void>;
}

export interface ReadCacheOptions {
  /** the longest an entry is used (default 1000 ms); 0 disables the cache */
  ttlMs?: number;
  /** most cached keys (default 10 000); the oldest entries are dropped first */
  maxKeys?: number;
  now?: () => number;
  /** several replicas on one database: writes bump this, key lookups check it */
  shared?: SharedCacheVersion;
  /** a failed bump (the write itself succeeded; other replicas then see it within `ttlMs`) */
  onSharedError?: (error: unknown) => void;
}

/**
 * Methods of the cached stores that leave the cache valid: reads, and `markUsed` (a key's last use, written on
 * requests once a minute per key: it changes nothing authentication reads, and clearing the cache for it would empty
 * it many times a second with many active keys). Calling any other method counts as a write.
 */
const READS: Record<"customers" | "keys" | "plans", ReadonlySet<string>> = {
  customers: new Set(["getCustomer", "list"]),
  keys: new Set(["findActiveByHash", "listForCustomer", "markUsed"]),
  plans: new Set(["getPlan", "listPlans", "versionAt", "getVersion", "listVersions"]),
};

interface KeyEntry {
  at: number;
  value: KeyContext;
}

interface VersionsEntry {
  at: number;
  /** ascending by `effectiveFrom` (versions of a plan take effect in version order) */
  versions: PriceVersion[];
}

export interface CachedStores extends Stores {
  /** drops every cached entry (also done by every write through these stores) */
  invalidate(): void;
}

export function withReadCache(stores: Stores, options: ReadCacheOptions = {}): CachedStores {
  const ttlMs = options.ttlMs ?? 1000;
  const maxKeys = options.maxKeys ?? 10_000;
  const now = options.now ?? Date.now;
  const keys = new Map<string, KeyEntry>();
  const versions = new Map<string, VersionsEntry>();
  let generation = 0;
  const invalidate = () => {
    generation++;
    keys.clear();
    versions.clear();
  };
  const fresh = (entry: { at: number } | undefined): boolean => entry !== undefined && now() - entry.at < ttlMs;
  const shared = options.shared;
  let seenVersion: string | null = null;
  /** Drops the cache when another replica wrote since this one last looked (or when the version cannot be read). */
  const checkShared = async () => {
    if (!shared) return;
    const version = await shared.read().catch(() => null);
    if (version === null || version !== seenVersion) {
      invalidate();
      seenVersion = version;
    }
  };

  async function findActiveByHash(hash: string): Promise<KeyContext | null> {
    if (shared) await checkShared();
    const hit = keys.get(hash);
    // A key that expired meanwhile goes back to the store (which no longer finds it), not a cached "yes".
    const expiresAt = hit?.value.key.expiresAt ?? null;
    if (fresh(hit) && (expiresAt === null || expiresAt > now())) return (hit as KeyEntry).value;
    const started = generation;
    const at = now();
    const value = await stores.keys.findActiveByHash(hash);
    if (value !== null && ttlMs > 0 && started === generation) {
      keys.delete(hash);
      if (keys.size >= maxKeys) keys.delete(keys.keys().next().value as string);
      keys.set(hash, { at, value });
    }
    return value;
  }

  async function versionAt(planId: string, at: number): Promise<PriceVersion | null> {
    let entry = versions.get(planId);
    if (!fresh(entry)) {
      const started = generation;
      const fetchedAt = now();
      const list = [...(await stores.plans.listVersions(planId))].sort(
        (a, b) => a.effectiveFrom - b.effectiveFrom || a.version - b.version,
      );
      entry = { at: fetchedAt, versions: list };
      if (ttlMs > 0 && started === generation) versions.set(planId, entry);
    }
    const list = (entry as VersionsEntry).versions;
    for (let i = list.length - 1; i >= 0; i--) {
      const v = list[i] as PriceVersion;
      if (v.effectiveFrom <= at) return v;
    }
    return null;
  }

  const overrides = { keys: { findActiveByHash }, plans: { versionAt } } as const;
  const wrap = <T extends object>(name: "customers" | "keys" | "plans", store: T): T =>
    new Proxy(store, {
      get(target, prop, receiver) {
        const own = (overrides as Record<string, Record<string | symbol, unknown>>)[name]?.[prop];
        if (own !== undefined && ttlMs > 0) return own;
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== "function") return value;
        if (typeof prop === "string" && READS[name].has(prop)) return value.bind(target);
        // A write: clear the cache once it has happened (and before, so nothing older is served meanwhile).
        return async (...args: unknown[]) => {
          invalidate();
          try {
            return await value.apply(target, args);
          } finally {
            invalidate();
            await shared?.bump().catch((error: unknown) => options.onSharedError?.(error));
          }
        };
      },
    });

  return {
    ...stores,
    customers: wrap("customers", stores.customers),
    keys: wrap("keys", stores.keys),
    plans: wrap("plans", stores.plans),
    invalidate,
  };
}
