import { and, asc, eq, gt, isNull, or, sql } from "drizzle-orm";
import { brokenConstraint, first, isPostgres, type SqlDb, tablesOf } from "../../../../storage/sql-db.ts";
import { generateApiKey, newId, sha256Hex } from "../../store/crypto.ts";
import type { ApiKey, Clock, IssuedKey, KeyContext, KeyStore, Result } from "../../store/ports.ts";

/** API keys, on every SQL engine: only the SHA-256 is stored; the lookup of every request is one prepared query. */
export class SqlKeyStore implements KeyStore {
  readonly #byHash: (params: { hash: string; now: number }) => Promise<KeyContext | undefined>;

  constructor(
    private readonly db: SqlDb,
    private readonly clock: Clock,
  ) {
    // Prepared once: every authenticated request runs it. One indexed lookup (api_keys.hash) and two primary-key joins.
    const { apiKeys, customers, plans } = tablesOf(db);
    const query = db
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
      );
    if (isPostgres(db)) {
      // pg-core's prepare takes a name: node-postgres parses it once per connection under that name.
      const named = (
        query as unknown as { prepare(name: string): { execute(p: object): Promise<KeyContext[]> } }
      ).prepare("api_key_by_hash");
      this.#byHash = async (params) => (await named.execute(params))[0];
    } else {
      const prepared = query.prepare();
      this.#byHash = async (params) => await prepared.get(params);
    }
  }

  async issueKey(
    customerId: string,
    name: string | null = null,
    options: { expiresAt?: number | null } = {},
  ): Promise<Result<IssuedKey, "customer_not_found">> {
    const { apiKeys } = tablesOf(this.db);
    const expiresAt = options.expiresAt ?? null;
    const { key, prefix } = generateApiKey();
    const hash = await sha256Hex(key);
    const id = newId("key");
    try {
      await this.db
        .insert(apiKeys)
        .values({ id, customerId, hash, prefix, name, createdAt: this.clock.now(), expiresAt });
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
    return (await this.#byHash({ hash, now: this.clock.now() })) ?? null;
  }

  async revoke(keyId: string): Promise<ApiKey | null> {
    const { apiKeys } = tablesOf(this.db);
    // coalesce keeps the first revocation time when a key is revoked twice.
    const row = await this.db
      .update(apiKeys)
      .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, ${this.clock.now()})` })
      .where(eq(apiKeys.id, keyId))
      .returning()
      .then(first);
    return row ?? null;
  }

  async revokeOwned(customerId: string, keyId: string): Promise<ApiKey | null> {
    const { apiKeys } = tablesOf(this.db);
    // Scoped to the owner: another customer's key id is unknown here, never revoked.
    const row = await this.db
      .update(apiKeys)
      .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, ${this.clock.now()})` })
      .where(and(eq(apiKeys.id, keyId), eq(apiKeys.customerId, customerId)))
      .returning()
      .then(first);
    return row ?? null;
  }

  async listForCustomer(customerId: string): Promise<ApiKey[]> {
    const { apiKeys } = tablesOf(this.db);
    return this.db
      .select()
      .from(apiKeys)
      .where(eq(apiKeys.customerId, customerId))
      .orderBy(asc(apiKeys.createdAt), asc(apiKeys.id));
  }

  async markUsed(keyId: string, at: number): Promise<void> {
    const { apiKeys } = tablesOf(this.db);
    await this.db
      .update(apiKeys)
      // Never backwards. A CASE, not SQLite's two-argument max(): Postgres calls that greatest().
      .set({
        lastUsedAt: sql`case when ${apiKeys.lastUsedAt} is null or ${apiKeys.lastUsedAt} < ${at} then ${at} else ${apiKeys.lastUsedAt} end`,
      })
      .where(eq(apiKeys.id, keyId));
  }
}
