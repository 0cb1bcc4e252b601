import type { PgDb } from "../../../../storage/pg/open.ts";
import { assertResultKey, type ResultStore } from "../../jobs/ports.ts";

/**
 * Batch-job results in Postgres (`job_results`, Postgres only): with several replicas an item's audio is written by
 * whichever replica ran it and downloaded through any of them, so it cannot live in one replica's DATA_DIR. A put is
 * one upsert, committed (durable) before it returns, so a reader sees the whole object or none.
 */
export class PostgresResultStore implements ResultStore {
  constructor(private readonly db: PgDb) {}

  async put(key: string, body: Uint8Array): Promise<void> {
    assertResultKey(key);
    await this.db.$client.query(
      "insert into job_results (key, body) values ($1, $2) on conflict (key) do update set body = excluded.body",
      [key, Buffer.from(body.buffer, body.byteOffset, body.byteLength)],
    );
  }

  async get(key: string): Promise<Uint8Array | null> {
    assertResultKey(key);
    const { rows } = await this.db.$client.query<{ body: Buffer }>("select body from job_results where key = $1", [
      key,
    ]);
    const body = rows[0]?.body;
    return body ? new Uint8Array(body.buffer, body.byteOffset, body.byteLength) : null;
  }

  async delete(key: string): Promise<void> {
    assertResultKey(key);
    await this.db.$client.query("delete from job_results where key = $1", [key]);
  }

  async deletePrefix(prefix: string): Promise<number> {
    if (!prefix.endsWith("/")) throw new RangeError(`a prefix ends with "/": ${JSON.stringify(prefix)}`);
    assertResultKey(prefix);
    // starts_with, not LIKE: `_` is a key character and a LIKE wildcard.
    const result = await this.db.$client.query("delete from job_results where starts_with(key, $1)", [prefix]);
    return result.rowCount ?? 0;
  }
}
