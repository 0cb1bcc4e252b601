/**
 * What `IdempotencyStore.begin` decides from the entry it finds, shared by every implementation so they agree. The
 * SQLite store runs it inside an IMMEDIATE transaction, which makes the read-decide-write atomic.
 */
import type { IdempotencyKeyRow } from "../../../migrations/schema/index.ts";
import type { BeginIdempotent, IdempotencyBegin } from "./ports.ts";

export interface BeginDecision {
  result: IdempotencyBegin;
  /** The row to store (insert or replace), or null to leave the entry as it is. */
  write: IdempotencyKeyRow | null;
}

export function decideBegin(
  existing: IdempotencyKeyRow | null,
  input: BeginIdempotent,
  now: number,
  staleAfterMs: number,
): BeginDecision {
  // An expired entry is as good as absent: after the TTL the key may be reused for a new request.
  if (existing === null || existing.expiresAt <= now) {
    return {
      result: { state: "new", requestId: input.requestId },
      write: {
        customerId: input.customerId,
        key: input.key,
        requestId: input.requestId,
        requestHash: input.fingerprint ?? null,
        status: "in_progress",
        responseStatus: null,
        responseBody: null,
        contentType: null,
        headers: null,
        createdAt: now,
        expiresAt: now + input.ttlMs,
      },
    };
  }
  const { requestId } = existing;
  const fingerprint = input.fingerprint ?? null;
  if (existing.requestHash !== null && fingerprint !== null && existing.requestHash !== fingerprint) {
    return { result: { state: "mismatch", requestId }, write: null };
  }
  if (existing.status === "done") {
    const response = {
      status: existing.responseStatus ?? 200,
      body: existing.responseBody ?? new Uint8Array(0),
      contentType: existing.contentType ?? "application/octet-stream",
      headers: existing.headers ?? {},
    };
    return { result: { state: "done", requestId, response }, write: null };
  }
  if (now - existing.createdAt < staleAfterMs) return { result: { state: "in_progress", requestId }, write: null };
  // The attempt in progress was abandoned (its process died). Take it over under ITS request id: if it was charged
  // before dying, the ledger ignores this attempt's charge, so the customer still pays once.
  return { result: { state: "new", requestId }, write: { ...existing, createdAt: now } };
}
