import type { IdempotencyKeyRow } from "../../../../migrations/schema/index.ts";
import type { ApiKey, Clock, Customer, GpuNode, Plan, PriceVersion, UsageEvent } from "../ports.ts";

/**
 * The tables of one in-memory "database", shared by the in-memory stores the way SQLite stores share a connection
 * (the key store joins customers and plans). Stores hand out copies, never these objects.
 */
export interface MemoryState {
  clock: Clock;
  plans: Map<string, Plan>;
  priceVersions: Map<string, PriceVersion>;
  customers: Map<string, Customer>;
  apiKeys: Map<string, ApiKey>;
  keyIdByHash: Map<string, string>;
  usage: UsageEvent[];
  usageRequestIds: Set<string>;
  idempotency: Map<string, IdempotencyKeyRow>;
  nodes: Map<string, GpuNode>;
}

export function createMemoryState(clock: Clock): MemoryState {
  return {
    clock,
    plans: new Map(),
    priceVersions: new Map(),
    customers: new Map(),
    apiKeys: new Map(),
    keyIdByHash: new Map(),
    usage: [],
    usageRequestIds: new Set(),
    idempotency: new Map(),
    nodes: new Map(),
  };
}

export const copy = <T>(value: T): T => structuredClone(value);
