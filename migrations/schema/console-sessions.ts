import { index, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { epochMs } from "./util.ts";

/**
 * Console sessions ended before their expiry (sign-out). Sessions themselves are signed cookies (no table); a
 * signed-out one is refused by every process and isolate that shares this database, not only the one that signed
 * it out. A row is needed only until the session would have expired anyway, so rows past `expires_at` are deleted.
 */
export const consoleSessionRevocations = sqliteTable(
  "console_session_revocations",
  {
    /** the session's random id (`sid` in the cookie) */
    sessionId: text("session_id").primaryKey(),
    /** the session's own expiry: after it the cookie is refused anyway, and the row may go */
    expiresAt: epochMs("expires_at").notNull(),
  },
  (t) => [index("console_session_revocations_expires_idx").on(t.expiresAt)],
);
