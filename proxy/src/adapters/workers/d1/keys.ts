import { and, asc, eq, gt, isNull, or, sql } from "drizzle-orm";
import { apiKeys, customers, plans } from "../../../../../migrations/schema/index.ts";
import { generateApiKey, newId, sha256Hex } from "../../../store/crypto.ts";
import type { ApiKey, Clock, IssuedKey, KeyContext, KeyStore, Result } from "../../../store/ports.ts";
import { brokenConstraint, type D1Db } from "./db.ts";

/** API keys on D1: only the SHA-256 is stored; the lookup of every request is one indexed query with two joins. */
export class D1KeyStore implements KeyStore {
  constructor(
    private readonly db: D1Db,
    private readonly clock: Clock,
  ) {}

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
    const row = await this.db
      .select({ key: apiKeys, customer: customers, plan: plans })
      .from(apiKeys)
      .innerJoin(customers, eq(customers.id, apiKeys.customerId))
      .innerJoin(plans, eq(plans.id, customers.planId))
      .where(
        and(
          eq(apiKeys.hash, hash),
          isNull(apiKeys.revokedAt),
          or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, this.clock.now())),
        ),
      )
      .get();
    return row ?? null;
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
