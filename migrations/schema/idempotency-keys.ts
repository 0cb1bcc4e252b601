import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { customers } from "./customers.ts";
import { bytes, createdAt, epochMs, oneOf } from "./util.ts";

export const IDEMPOTENCY_STATUSES = ["in_progress", "done"] as const;
export type IdempotencyStatus = (typeof IDEMPOTENCY_STATUSES)[number];

/**
 * `Idempotency-Key` of synthesis requests: a retry with the same key before `expires_at` gets the stored response
 * (the same audio) and is charged once. Keys are scoped per customer. Failed requests delete their row, so a retry
 * after a failure runs again.
 */
export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    customerId: text("customer_id")
      .notNull()
      .references(() => customers.id),
    key: text("key").notNull(),
    /** The request id metered for this key: every retry is charged under it, so the ledger counts it once. */
    requestId: text("request_id").notNull(),
    /** Hash of the request body; the same key with a different body is refused (422) rather than replayed. */
    requestHash: text("request_hash"),
    status: text("status", { enum: IDEMPOTENCY_STATUSES }).notNull(),
    responseStatus: integer("response_status"),
    responseBody: bytes("response_body"),
    contentType: text("content_type"),
    headers: text("headers", { mode: "json" }).$type<Record<string, string>>(),
    /** When the current attempt started; reset when an abandoned (crashed) attempt is taken over. */
    createdAt: createdAt(),
    /** After this, the key is forgotten and may start a new request (24 h for synthesis). */
    expiresAt: epochMs("expires_at").notNull(),
  },
  (t) => [
    primaryKey({ name: "idempotency_keys_pk", columns: [t.customerId, t.key] }),
    index("idempotency_keys_expires_idx").on(t.expiresAt),
    oneOf("idempotency_keys_status_check", t.status, IDEMPOTENCY_STATUSES),
  ],
);
