/**
 * The domain's records, shared by the proxy (which writes them) and billing (which rates and invoices them). They are
 * the schema's row types: each table is declared once, in `migrations/schema/`, and its row is the record.
 *
 * Conventions: money is integer micro-units, multipliers integer basis points, times epoch milliseconds, time ranges
 * half-open `[fromMs, toMs)`. Expected outcomes are returned as a `Result`, never thrown.
 */
import type {
  ApiKeyRow,
  CustomerRow,
  NodeRow,
  PlanRow,
  PriceVersionRow,
  UsageEventRow,
} from "../migrations/schema/index.ts";

export type {
  CustomerStatus,
  NodeState,
  PeakWindow,
  PlanKind,
  Priority,
  UsageSource,
} from "../migrations/schema/index.ts";
export type Customer = CustomerRow;
export type ApiKey = ApiKeyRow;
export type Plan = PlanRow;
export type PriceVersion = PriceVersionRow;
export type GpuNode = NodeRow;
/**
 * One billed request, as the proxy rated it. `id` is the ledger's own cursor and is not part of the event. `source`
 * (api, playground, job) is "api" when not given: most writers are the API itself.
 */
export type UsageEvent = Omit<UsageEventRow, "id" | "source"> & { source?: UsageEventRow["source"] };

export type Result<T, E extends string> = { ok: true; value: T } | { ok: false; error: E; message: string };

/** Injected time source, so tests can move time (expiry, effective dates, day boundaries, billing periods). */
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };
