import { and, asc, eq, gt, isNull, or, sql } from "drizzle-orm";
import { apiKeys, customers, plans } from "../../../../migrations/schema/index.ts";
import { brokenConstraint, type SqlDb } from "../../../../storage/sql-db.ts";
import { generateApiKey, newId, sha256Hex } from "../../store/crypto.ts";
import type { ApiKey, Clock, IssuedKey, KeyContext, KeyStore, Result } from "../../store/ports.ts";

/** API keys, on every SQL engine: only the SHA-256 is stored; the lookup of every request is one prepared query. */
export class SqlKeyStore implements KeyStore {
  readonly #byHash;

  constructor(
    private readonly db: SqlDb,
    private readonly clock: Clock,
  ) {
    // Prepared once: every authenticated request runs it. One indexed lookup (api_keys.hash) and two primary-key joins.
    this.#byHash = db
      .select({ key: apiKeys, customer: customers, plan: plans })
      .from(apiKeys)
      .innerJoin(customers, eq(customers.id, apiKeys.customerId))
      .innerJoin(plans, eq(plans.id, customers.planId))
      .where(
        and(
          eq(apiKeys.hash, sql.placeholder("hash")),
          isNull(apiKeys.revokedAt),
          or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, sql.placeholder("now"))),
        ),
      )
      .prepare();
  }

  async issueKey(
    customerId: string,
    name: string | null = null,
    options: { expiresAt?: number | null } = {},
  ): Promise<Result<IssuedKey, "customer_not_found">> {
    const expiresAt = options.expiresAt ?? null;
    const { key, prefix } = generateApiKey();
    const hash = await sha256Hex(key);
    const id = newId("key");
    try {
      await this.db
        .insert(apiKeys)
        .values({ id, customerId, hash, prefix, name, createdAt: this.clock.now(), expiresAt })
        .run();
    } catch (error) {
      // The key's foreign key to its customer is the check: no read-then-insert race.
      if (brokenConstraint(error)?.kind === "foreign_key") {
        return { ok: false, error: "customer_not_found", message: `no customer ${customerId}` };
      }
      throw error;
    }
    return { ok: true, value: { id, key, prefix } };
  }

  async findActiveByHash(hash: string): Promise<KeyContext | null> {
    return (await this.#byHash.get({ hash, now: this.clock.now() })) ?? null;
  }

  async revoke(keyId: string): Promise<ApiKey | null> {
    // coalesce keeps the first revocation time when a key is revoked twice.
    const row = await this.db
      .update(apiKeys)
      .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, ${this.clock.now()})` })
      .where(eq(apiKeys.id, keyId))
      .returning()
      .get();
    return row ?? null;
  }

  async revokeOwned(customerId: string, keyId: string): Promise<ApiKey | null> {
    // Scoped to the owner: another customer's key id is unknown here, never revoked.
    const row = await this.db
      .update(apiKeys)
      .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, ${this.clock.now()})` })
      .where(and(eq(apiKeys.id, keyId), eq(apiKeys.customerId, customerId)))
      .returning()
      .get();
    return row ?? null;
  }

  async listForCustomer(customerId: string): Promise<ApiKey[]> {
    return this.db
      .select()
      .from(apiKeys)
      .where(eq(apiKeys.customerId, customerId))
      .orderBy(asc(apiKeys.createdAt), asc(apiKeys.id))
      .all();
  }

  async markUsed(keyId: string, at: number): Promise<void> {
    await this.db
      .update(apiKeys)
      .set({ lastUsedAt: sql`max(coalesce(${apiKeys.lastUsedAt}, 0), ${at})` })
      .where(eq(apiKeys.id, keyId))
      .run();
  }
}
