import { generateApiKey, newId, sha256Hex } from "../crypto.ts";
import type { ApiKey, IssuedKey, KeyContext, KeyStore, Result } from "../ports.ts";
import { copy, type MemoryState } from "./state.ts";

export class InMemoryKeyStore implements KeyStore {
  constructor(private readonly state: MemoryState) {}

  async issueKey(
    customerId: string,
    name: string | null = null,
    options: { expiresAt?: number | null } = {},
  ): Promise<Result<IssuedKey, "customer_not_found">> {
    if (!this.state.customers.has(customerId)) {
      return { ok: false, error: "customer_not_found", message: `no customer ${customerId}` };
    }
    const { key, prefix } = generateApiKey();
    const hash = await sha256Hex(key);
    const id = newId("key");
    const record: ApiKey = {
      id,
      customerId,
      hash,
      prefix,
      name,
      createdAt: this.state.clock.now(),
      revokedAt: null,
      lastUsedAt: null,
      expiresAt: options.expiresAt ?? null,
    };
    this.state.apiKeys.set(id, record);
    this.state.keyIdByHash.set(hash, id);
    return { ok: true, value: { id, key, prefix } };
  }

  async findActiveByHash(hash: string): Promise<KeyContext | null> {
    const id = this.state.keyIdByHash.get(hash);
    const key = id === undefined ? undefined : this.state.apiKeys.get(id);
    if (!key || key.revokedAt !== null) return null;
    if (key.expiresAt !== null && key.expiresAt <= this.state.clock.now()) return null;
    const customer = this.state.customers.get(key.customerId);
    const plan = customer && this.state.plans.get(customer.planId);
    if (!customer || !plan) return null;
    return { key: copy(key), customer: copy(customer), plan: copy(plan) };
  }

  async revoke(keyId: string): Promise<ApiKey | null> {
    const key = this.state.apiKeys.get(keyId);
    if (!key) return null;
    key.revokedAt ??= this.state.clock.now();
    return copy(key);
  }

  async revokeOwned(customerId: string, keyId: string): Promise<ApiKey | null> {
    return this.state.apiKeys.get(keyId)?.customerId === customerId ? this.revoke(keyId) : null;
  }

  async listForCustomer(customerId: string): Promise<ApiKey[]> {
    return [...this.state.apiKeys.values()]
      .filter((k) => k.customerId === customerId)
      .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
      .map(copy);
  }

  async markUsed(keyId: string, at: number): Promise<void> {
    const key = this.state.apiKeys.get(keyId);
    if (key) key.lastUsedAt = Math.max(key.lastUsedAt ?? 0, at);
  }
}
