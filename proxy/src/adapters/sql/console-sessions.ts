import { eq, lte } from "drizzle-orm";
import { first, type SqlDb, tablesOf } from "../../../../storage/sql-db.ts";
import type { Clock, ConsoleSessionStore } from "../../store/ports.ts";

/**
 * Signed-out console sessions, on every SQL engine (SQLite, D1, Postgres): one row per session signed out before its
 * expiry, looked up by primary key on each console page. Rows whose session has expired anyway are deleted at each
 * sign-out, so the table holds at most the sessions signed out within the last session lifetime.
 */
export class SqlConsoleSessionStore implements ConsoleSessionStore {
  constructor(
    private readonly db: SqlDb,
    private readonly clock: Clock,
  ) {}

  async revoke(sessionId: string, expiresAt: number): Promise<void> {
    const { consoleSessionRevocations: t } = tablesOf(this.db);
    await this.db.delete(t).where(lte(t.expiresAt, this.clock.now()));
    await this.db.insert(t).values({ sessionId, expiresAt }).onConflictDoNothing({ target: t.sessionId });
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    const { consoleSessionRevocations: t } = tablesOf(this.db);
    const row = await this.db
      .select({ sessionId: t.sessionId })
      .from(t)
      .where(eq(t.sessionId, sessionId))
      .limit(1)
      .then(first);
    return row !== undefined;
  }
}
