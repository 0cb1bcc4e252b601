import type { PgDb } from "../../../../storage/pg/open.ts";
import type { CommittedCeiling, RunAtomically } from "../sql/usage-reports.ts";

/**
 * The two Postgres hooks of the usage rollups' fold (`../sql/usage-reports.ts`, the same fold as SQLite's and D1's).
 *
 * The fold reads ledger rows by id. Replicas append at once, so id 100 may commit after id 101 is visible; a fold
 * that passed 101 would never see 100. `committedCeiling` takes `SHARE` on usage_events for an instant: it waits for
 * every append in flight (each holds `ROW EXCLUSIVE`, taken before its sequence values are drawn) and holds new ones
 * back while it reads max(id), so every id up to that max is committed or rolled back. Appends stall only for that
 * read, not for the fold itself, which then runs in its own transaction up to the ceiling.
 */
export function postgresFoldHooks(db: PgDb): { runAtomically: RunAtomically; committedCeiling: CommittedCeiling } {
  const inTransaction = async <T>(work: (query: (text: string) => Promise<{ rows: unknown[] }>) => Promise<T>) => {
    const client = await db.$client.connect();
    try {
      await client.query("begin");
      const result = await work((text) => client.query(text));
      await client.query("commit");
      return result;
    } catch (error) {
      await client.query("rollback").catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  };
  return {
    runAtomically: (statements) =>
      inTransaction(async (query) => {
        for (const statement of statements) await query(statement);
      }),
    committedCeiling: () =>
      inTransaction(async (query) => {
        await query("lock table usage_events in share mode");
        const { rows } = await query("select coalesce(max(id), 0) as id from usage_events");
        return Number((rows[0] as { id: unknown }).id);
      }),
  };
}
