/**
 * The proxy's data ports: what auth, metering, idempotency and routing need from storage, and what billing reads.
 * Implementations: in-memory (`./memory/`, tests and single-process dev) and SQLite (`../adapters/sqlite/`). Every
 * port is async so a D1 adapter can implement it unchanged. Domain records (`domain/records.ts`) are the schema's row
 * types: the table is declared once, in `migrations/schema/`.
 *
 * Conventions: money is integer micro-units, multipliers integer basis points, times epoch milliseconds, time ranges
 * half-open `[fromMs, toMs)`. Expected outcomes (not found, taken, stale) are returned, never thrown; a thrown error or
 * rejected promise means storage itself failed.
 */
import type {
  ApiKey,
  Customer,
  CustomerStatus,
  GpuNode,
  NodeState,
  PeakWindow,
  Plan,
  PlanKind,
  PriceVersion,
  Result,
  UsageEvent,
  UsageSource,
} from "../../../domain/records.ts";

import type { UsageReports } from "./usage-reports.ts";

/** The domain's records and clock live on the ground floor (`domain/`), shared with billing. */
export {
  type ApiKey,
  type Clock,
  type Customer,
  type GpuNode,
  type PeakWindow,
  type Plan,
  type PriceVersion,
  type Priority,
  type Result,
  systemClock,
  type UsageEvent,
  type UsageSource,
} from "../../../domain/records.ts";
export type { UsageReports } from "./usage-reports.ts";

// ─── customers ──────────────────────────────────────────────────────────────────────────────────────────────────────

export interface NewCustomer {
  /** Defaults to a generated `cus_…` id. */
  id?: string;
  name: string;
  email: string;
  planId: string;
  dedicatedPool?: string | null;
  stripeCustomerId?: string | null;
}

export type CustomerPatch = Partial<Pick<Customer, "name" | "email" | "planId" | "dedicatedPool" | "stripeCustomerId">>;

export interface CustomerStore {
  createCustomer(input: NewCustomer): Promise<Result<Customer, "plan_not_found" | "id_taken" | "invalid">>;
  getCustomer(id: string): Promise<Customer | null>;
  update(id: string, patch: CustomerPatch): Promise<Result<Customer, "not_found" | "plan_not_found" | "invalid">>;
  /** `reason` is kept for `suspended` and cleared for `active`. Returns null for an unknown customer. */
  setStatus(id: string, status: CustomerStatus, reason?: string | null): Promise<Customer | null>;
  suspend(id: string, reason: string): Promise<Customer | null>;
  restore(id: string): Promise<Customer | null>;
  /** Ordered by id; `afterId` pages. */
  list(options?: { status?: CustomerStatus; limit?: number; afterId?: string }): Promise<Customer[]>;
}

// ─── API keys ───────────────────────────────────────────────────────────────────────────────────────────────────────

export interface IssuedKey {
  id: string;
  /** The plaintext key (`tts_live_` + 32 base62 characters). Shown once: only its SHA-256 is stored. */
  key: string;
  prefix: string;
}

/** What the auth middleware needs about a presented key, in one lookup. */
export interface KeyContext {
  key: ApiKey;
  customer: Customer;
  plan: Plan;
}

export interface KeyStore {
  /** `expiresAt`: from then on the key is found no more (as if revoked). */
  issueKey(
    customerId: string,
    name?: string | null,
    options?: { expiresAt?: number | null },
  ): Promise<Result<IssuedKey, "customer_not_found">>;
  /**
   * The unrevoked, unexpired key with this SHA-256 (see `sha256Hex`), with its customer and plan, or null. A suspended customer
   * is still returned (with `status: "suspended"`) so the caller answers 403, not 401.
   */
  findActiveByHash(hash: string): Promise<KeyContext | null>;
  /** Returns the key as revoked, or null if unknown. Revoking twice keeps the first `revokedAt`. */
  revoke(keyId: string): Promise<ApiKey | null>;
  /** `revoke`, only if the key is this customer's: another customer's key id is "unknown" (null), never touched. */
  revokeOwned(customerId: string, keyId: string): Promise<ApiKey | null>;
  listForCustomer(customerId: string): Promise<ApiKey[]>;
  /** Records use; callers should throttle it (e.g. once a minute per key) since it is a write. */
  markUsed(keyId: string, at: number): Promise<void>;
}

// ─── plans and prices ───────────────────────────────────────────────────────────────────────────────────────────────

export interface NewPlan {
  id: string;
  kind: PlanKind;
  name: string;
  currency: string;
  timeZone: string;
  requestsPerSecond: number;
  burst: number;
  maxInFlight: number;
}

export interface NewPriceVersion {
  /** Defaults to the store's "now" (a caller's own clock reading would already be in the past when it arrives). */
  effectiveFrom?: number;
  unitPriceMicrosPer1kTokens: number;
  peakWindows?: PeakWindow[];
  peakMultiplierBp?: number;
  batchDiscountBp?: number;
  monthlyFeeMicros?: number;
  includedTokens?: number;
  overagePriceMicrosPer1kTokens?: number | null;
  stripeProductId?: string | null;
  stripePriceId?: string | null;
}

export type AddPriceVersionError = "plan_not_found" | "effective_from_in_past" | "not_after_latest" | "invalid";

export interface PlanStore {
  /** Creates the plan or updates its name, limits, currency and time zone (prices are versioned separately). */
  upsertPlan(plan: NewPlan): Promise<Result<Plan, "invalid">>;
  getPlan(id: string): Promise<Plan | null>;
  listPlans(): Promise<Plan[]>;
  /**
   * Appends the next version (1, 2, …). `effectiveFrom` may be now or in the future, never in the past (that would
   * re-price usage already rated), and must be later than the latest version's so "the version in force" is unique.
   */
  addPriceVersion(planId: string, input: NewPriceVersion): Promise<Result<PriceVersion, AddPriceVersionError>>;
  /** The version in force at `at`: the greatest `effectiveFrom` ≤ `at`; null before the first one. */
  versionAt(planId: string, at: number): Promise<PriceVersion | null>;
  getVersion(id: string): Promise<PriceVersion | null>;
  /** Ascending by version. */
  listVersions(planId: string): Promise<PriceVersion[]>;
}

// ─── usage ledger ───────────────────────────────────────────────────────────────────────────────────────────────────

export interface AppendOutcome {
  /** false: an event with this request id was already recorded (now or in an earlier append); nothing changed. */
  inserted: boolean;
}

export interface UsageTotals {
  /** the plan the usage was charged under: only when asked `byPlan` */
  planId?: string;
  currency: string;
  events: number;
  tokens: number;
  peakTokens: number;
  audioMs: number;
  inputChars: number;
  amountMicros: number;
}

export interface DailyUsage {
  /** Local calendar day "YYYY-MM-DD" in the requested time zone. */
  day: string;
  /** The plan the usage was charged under (a customer whose plan changed has rows of each). */
  planId: string;
  peak: boolean;
  currency: string;
  /** What sent the requests (api, playground, job): only when asked `bySource` */
  source?: UsageSource;
  events: number;
  tokens: number;
  audioMs: number;
  amountMicros: number;
}

export interface UsageByDayQuery {
  customerId: string;
  fromMs: number;
  toMs: number;
  timeZone?: string;
  bySource?: boolean;
}

export interface UsageLedger {
  /**
   * Records events atomically: when the promise resolves, all of them are committed; when it rejects, none is.
   * Outcomes are in input order. A request id seen before (or earlier in the same call) is ignored, so a retried
   * append never double-counts. Malformed events (non-integer money, negative counts) reject the whole call.
   */
  append(events: readonly UsageEvent[]): Promise<AppendOutcome[]>;
  /**
   * Per local day, plan, peak flag and currency, ascending by day, then plan, then off-peak first, then currency;
   * with `bySource` also per source (then ascending by source).
   */
  usageByDay(query: UsageByDayQuery): Promise<DailyUsage[]>;
  /**
   * One row per currency (amounts in different currencies are never added), or with `byPlan` per plan and currency
   * (sorted by plan, then currency; each row has `planId`); all customers if none is given.
   */
  totals(query: { customerId?: string; fromMs: number; toMs: number; byPlan?: boolean }): Promise<UsageTotals[]>;
}

// ─── idempotency ────────────────────────────────────────────────────────────────────────────────────────────────────

export interface StoredResponse {
  status: number;
  body: Uint8Array;
  contentType: string;
  headers: Record<string, string>;
}

export interface BeginIdempotent {
  customerId: string;
  key: string;
  /** The id of the request that is starting. */
  requestId: string;
  /** How long the key is remembered (24 h for synthesis). */
  ttlMs: number;
  /** Hash of the request body; a retry with another body gets `mismatch`. */
  fingerprint?: string | null;
  /** An `in_progress` entry older than this is an abandoned attempt (crash) and may be taken over. */
  staleAfterMs?: number;
}

export type IdempotencyBegin =
  /**
   * Go ahead, and meter under `requestId`. It is the caller's own id, except when taking over an abandoned attempt:
   * then it is that attempt's id, so if the crashed attempt was already charged the ledger ignores the second charge.
   */
  | { state: "new"; requestId: string }
  | { state: "in_progress"; requestId: string }
  | { state: "done"; requestId: string; response: StoredResponse }
  | { state: "mismatch"; requestId: string };

/** Longer than any request's deadline: an `in_progress` entry this old belongs to a process that died. */
export const DEFAULT_IDEMPOTENCY_STALE_AFTER_MS = 10 * 60_000;

export interface IdempotencyStore {
  begin(input: BeginIdempotent): Promise<IdempotencyBegin>;
  /** Stores the response for replay. false if the entry is no longer this request's (expired or taken over). */
  complete(customerId: string, key: string, requestId: string, response: StoredResponse): Promise<boolean>;
  /** Forgets an in-progress entry of this request, so a retry runs again (nothing was charged). */
  fail(customerId: string, key: string, requestId: string): Promise<void>;
  /** Deletes expired entries; returns how many. Expired entries are already ignored by `begin`. */
  purgeExpired(): Promise<number>;
}

// ─── nodes ──────────────────────────────────────────────────────────────────────────────────────────────────────────

export interface NewNode {
  /** Defaults to a generated `node_…` id. */
  id?: string;
  url: string;
  pool?: string;
  weight?: number;
}

export interface NodeStore {
  /** Adding the URL of a removed node brings that node back (same id) with the new pool and weight. */
  add(input: NewNode): Promise<Result<GpuNode, "url_taken" | "id_taken" | "invalid">>;
  /** Removed nodes are left out unless asked for by `state`. Ordered by pool, then id. */
  list(filter?: { pool?: string; state?: NodeState }): Promise<GpuNode[]>;
  get(id: string): Promise<GpuNode | null>;
  setState(id: string, state: NodeState): Promise<GpuNode | null>;
  /** Tombstones the node (`removed`) so usage rows still resolve its id. false if unknown. */
  remove(id: string): Promise<boolean>;
}

/** Every store of one backing database. */
export interface Stores {
  customers: CustomerStore;
  keys: KeyStore;
  plans: PlanStore;
  ledger: UsageLedger;
  idempotency: IdempotencyStore;
  nodes: NodeStore;
  /** Reports over every customer's usage, from rollups of the ledger (every engine has them). */
  reports: UsageReports;
  /** Signed-out console sessions, shared by every process on this database (absent: each process keeps its own). */
  consoleSessions?: ConsoleSessionStore;
}

// ─── console sessions ───────────────────────────────────────────────────────────────────────────────────────────────

/**
 * Console sessions are signed cookies; this keeps the ones signed out before their expiry, so every process and
 * isolate that shares the database refuses them, not only the one that signed them out.
 */
export interface ConsoleSessionStore {
  /** Session `sessionId` is signed out; it would have expired at `expiresAt` (kept until then, then deleted). */
  revoke(sessionId: string, expiresAt: number): Promise<void>;
  isRevoked(sessionId: string): Promise<boolean>;
}
