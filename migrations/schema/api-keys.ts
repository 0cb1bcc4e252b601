import { index, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { customers } from "./customers.ts";
import { createdAt, epochMs, textId } from "./util.ts";

/**
 * API keys. Only the SHA-256 of a key is stored: the plaintext is shown once when issued. `prefix` (the first
 * characters) lets a customer tell keys apart in a list without the secret.
 */
export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: textId(),
    customerId: text("customer_id")
      .notNull()
      .references(() => customers.id),
    /** Lowercase hex SHA-256 of the full key; the lookup index of every authenticated request. */
    hash: text("hash").notNull().unique(),
    prefix: text("prefix").notNull(),
    name: text("name"),
    createdAt: createdAt(),
    /** Set once; a revoked key answers 401 and is never reactivated (issue a new one). */
    revokedAt: epochMs("revoked_at"),
    lastUsedAt: epochMs("last_used_at"),
    /** Optional: from this time on the key answers 401 as if revoked (customers set it when creating a key). */
    expiresAt: epochMs("expires_at"),
  },
  (t) => [index("api_keys_customer_id_idx").on(t.customerId)],
);
